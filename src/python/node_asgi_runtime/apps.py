"""Loading the app: "module:attribute" import strings as uvicorn reads them, factories, ASGI 2."""

import asyncio
import importlib
import inspect
import sys
import traceback


def describe(exc):
    """(type name, message, formatted traceback) of an exception, for a PythonError in Node."""
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    tb = "".join(traceback.format_exception(cls, exc, exc.__traceback__))
    return name, str(exc), tb


def load_app(settings):
    """Imports "module:attribute" the way uvicorn does, and adapts ASGI 2 apps."""
    target = settings["app"]
    module_name, _, attrs = target.partition(":")
    if not module_name or not attrs:
        raise ImportError(f'Import string "{target}" must be in format "<module>:<attribute>".')
    app_dir = settings["app_dir"]
    if app_dir and (not sys.path or sys.path[0] != app_dir):
        sys.path.insert(0, app_dir)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
            raise  # the module exists, something it imports does not
        raise ModuleNotFoundError(f'Could not import module "{module_name}".', name=module_name) from None
    app = module
    for attr in attrs.split("."):
        try:
            app = getattr(app, attr)
        except AttributeError:
            raise AttributeError(f'Attribute "{attrs}" not found in module "{module_name}".') from None
    if settings["factory"]:
        if not callable(app):
            raise TypeError(f'The factory "{target}" is not callable.')
        app = app()
    if not callable(app):
        raise TypeError(f'The ASGI app "{target}" is not callable (got {type(app).__name__}).')
    return app if is_asgi3(app) else asgi2_adapter(app)


def is_asgi3(app):
    if inspect.isclass(app):
        return hasattr(app, "__await__")
    if inspect.isfunction(app):
        return asyncio.iscoroutinefunction(app)
    return asyncio.iscoroutinefunction(getattr(app, "__call__", None))


def asgi2_adapter(app):
    async def asgi3(scope, receive, send):
        instance = app(scope)
        await instance(receive, send)

    return asgi3
