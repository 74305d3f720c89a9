"""Checks of every event payload against a small schema: types, lengths, required and unknown fields."""
import re

ID_PATTERN = re.compile(r'^[A-Za-z0-9_.:-]{1,64}$')


class ValidationError(ValueError):
    """The payload does not match its event's schema; str(self) says which field and why."""


class Text:
    """A string field of min_length..max_length characters, optionally one of `choices`."""

    def __init__(self, min_length=1, max_length=1000, required=True, choices=None):
        self.min_length, self.max_length, self.required, self.choices = min_length, max_length, required, choices

    def check(self, name, value):
        if not isinstance(value, str):
            raise ValidationError(f"field '{name}' must be a string, got {type_name(value)}")
        if self.choices is not None and value not in self.choices:
            raise ValidationError(f"field '{name}' must be one of {', '.join(self.choices)}, got {value[:40]!r}")
        if not self.min_length <= len(value) <= self.max_length:
            raise ValidationError(
                f"field '{name}' must be {self.min_length}-{self.max_length} characters, got {len(value)}")
        return value


class Identifier(Text):
    """A room or command name: 1-64 of A-Z a-z 0-9 _ . : -."""

    def __init__(self, required=True):
        super().__init__(1, 64, required)

    def check(self, name, value):
        super().check(name, value)
        if not ID_PATTERN.match(value):
            raise ValidationError(f"field '{name}' must be 1-64 of A-Z a-z 0-9 _ . : -, got {value[:40]!r}")
        return value


def type_name(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, (list, tuple)):
        return 'array'
    if isinstance(value, dict):
        return 'object'
    if isinstance(value, (bytes, bytearray)):
        return 'binary'
    return type(value).__name__


def validate(payload, schema, allow_empty=False):
    """Returns the payload's fields as a dict, or raises ValidationError naming what is wrong."""
    if payload is None and allow_empty:
        payload = {}
    if not isinstance(payload, dict):
        raise ValidationError(f'the payload must be an object, got {type_name(payload)}')
    for key in payload:
        if key not in schema:
            raise ValidationError(f"unknown field '{str(key)[:40]}'")
    fields = {}
    for name, field in schema.items():
        if name not in payload or payload[name] is None:
            if field.required:
                raise ValidationError(f"field '{name}' is required")
            continue
        fields[name] = field.check(name, payload[name])
    return fields


SCHEMAS = {
    'join_session': {'session_id': Identifier()},
    'join_project': {'project_id': Identifier()},
    'chat_message': {'session_id': Identifier(), 'text': Text(1, 2000)},
    'file_update': {
        'project_id': Identifier(),
        'path': Text(1, 512),
        'action': Text(choices=('created', 'modified', 'deleted')),
        'content': Text(0, 100_000, required=False),
    },
    'tts_notification': {'text': Text(1, 500), 'voice': Identifier(required=False)},
    'terminal_command': {'command': Identifier(), 'request_id': Text(1, 64, required=False)},
    'system_status': {},
}
