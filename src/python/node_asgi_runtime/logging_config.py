"""--log-config: Python logging configured from a file or a dict before the app is imported.

uvicorn's rules: a .json file (or a dict) goes to logging.config.dictConfig, a .yaml/.yml file too
(when PyYAML imports), anything else to logging.config.fileConfig with existing loggers kept.
"""

import json
import logging.config


def configure_logging(config):
    try:
        _configure(config)
    except Exception as exc:
        raise ValueError(f"--log-config {config}: {type(exc).__name__}: {exc}") from exc


def _configure(config):
    if config is None:
        return
    if isinstance(config, dict):
        logging.config.dictConfig(config)
    elif config.endswith(".json"):
        with open(config, encoding="utf-8") as f:
            logging.config.dictConfig(json.load(f))
    elif config.endswith((".yaml", ".yml")):
        import yaml  # an ImportError names the missing package

        with open(config, encoding="utf-8") as f:
            logging.config.dictConfig(yaml.safe_load(f))
    else:
        logging.config.fileConfig(config, disable_existing_loggers=False)
