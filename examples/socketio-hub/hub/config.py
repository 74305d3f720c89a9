"""The hub's configuration from environment variables, checked at startup: a bad value names its variable."""
import json
import os
import re
import shutil
from dataclasses import dataclass

VERSION = '1.0.0'

NAME_PATTERN = re.compile(r'^[A-Za-z0-9_.:-]{1,64}$')
ORIGIN_PATTERN = re.compile(r'^https?://[^/\s,]+$')

DEFAULT_TERMINAL_COMMANDS = {
    'date': ['date', '-u', '+%Y-%m-%dT%H:%M:%SZ'],
    'uptime': ['uptime'],
    'uname': ['uname', '-sr'],
}


class ConfigError(ValueError):
    """A configuration variable is missing or malformed."""


@dataclass(frozen=True)
class Config:
    jwt_secret: str
    cors_origins: object  # None (same origin only), '*', or a list of origins
    rate_limit_points: int
    rate_limit_window: float
    terminal_commands: dict  # name -> tuple of argv strings
    terminal_timeout: float
    terminal_output_limit: int
    terminal_max_running: int
    redis_url: object  # str or None
    version: str


def _number(environ, name, default, kind, minimum, maximum):
    raw = environ.get(name, '').strip()
    if raw == '':
        return default
    try:
        value = kind(raw)
    except ValueError:
        label = 'an integer' if kind is int else 'a number'
        raise ConfigError(f'{name} must be {label} between {minimum} and {maximum}, got {raw!r}') from None
    if not (minimum <= value <= maximum):
        raise ConfigError(f'{name} must be between {minimum} and {maximum}, got {raw!r}')
    return value


def _cors_origins(environ):
    raw = environ.get('CORS_ORIGINS', '').strip()
    if raw == '':
        return None
    if raw == '*':
        return '*'
    origins = [part.strip() for part in raw.split(',') if part.strip()]
    for origin in origins:
        if not ORIGIN_PATTERN.match(origin):
            raise ConfigError(f'CORS_ORIGINS: {origin!r} is not an origin like https://app.example.com[:port]')
    return origins


def _terminal_commands(environ):
    raw = environ.get('TERMINAL_COMMANDS', '').strip()
    if raw == '':
        table = DEFAULT_TERMINAL_COMMANDS
    else:
        try:
            table = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f'TERMINAL_COMMANDS must be a JSON object of name -> argv list: {exc}') from None
        if not isinstance(table, dict):
            raise ConfigError('TERMINAL_COMMANDS must be a JSON object of name -> argv list')
    commands = {}
    for name, argv in table.items():
        if not NAME_PATTERN.match(name):
            raise ConfigError(f'TERMINAL_COMMANDS: the name {name!r} must be 1-64 of A-Z a-z 0-9 _ . : -')
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) and '\0' not in a for a in argv):
            raise ConfigError(f'TERMINAL_COMMANDS: {name!r} must map to a non-empty list of strings')
        if shutil.which(argv[0]) is None:
            raise ConfigError(f'TERMINAL_COMMANDS: {name!r} runs {argv[0]!r}, which is not an executable on PATH')
        commands[name] = tuple(argv)
    return commands


def load(environ=os.environ):
    """Reads and checks every variable; raises ConfigError naming the first bad one."""
    secret = environ.get('JWT_SECRET', '')
    if secret == '':
        raise ConfigError('JWT_SECRET is not set: the hub needs the HS256 secret that signs client tokens')
    redis_url = environ.get('REDIS_URL', '').strip() or None
    if redis_url is not None and not re.match(r'^(redis|rediss|unix)://', redis_url):
        raise ConfigError(f'REDIS_URL must start with redis://, rediss:// or unix://, got {redis_url!r}')
    return Config(
        jwt_secret=secret,
        cors_origins=_cors_origins(environ),
        rate_limit_points=_number(environ, 'RATE_LIMIT_POINTS', 60, int, 1, 1_000_000),
        rate_limit_window=_number(environ, 'RATE_LIMIT_WINDOW_SECONDS', 10.0, float, 0.01, 86400),
        terminal_commands=_terminal_commands(environ),
        terminal_timeout=_number(environ, 'TERMINAL_TIMEOUT_SECONDS', 5.0, float, 0.01, 3600),
        terminal_output_limit=_number(environ, 'TERMINAL_OUTPUT_LIMIT', 65536, int, 1, 16 * 1024 * 1024),
        terminal_max_running=_number(environ, 'TERMINAL_MAX_RUNNING', 4, int, 1, 1000),
        redis_url=redis_url,
        version=environ.get('APP_VERSION', '').strip() or VERSION,
    )
