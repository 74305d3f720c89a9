"""JWT (HS256) checks for the Socket.IO connect handshake: who the client is, or why it is refused."""
import jwt

MAX_TOKEN_LENGTH = 8192


class AuthError(Exception):
    """The token is missing or not acceptable; `code` is machine-readable, str(self) the reason."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code


def authenticate(auth, secret):
    """Returns the token's claims for the connect `auth` payload {token}, or raises AuthError."""
    if auth is None:
        raise AuthError('missing_token', 'authentication required: send {token} in the auth payload')
    if not isinstance(auth, dict):
        raise AuthError('missing_token', 'authentication required: the auth payload must be an object {token}')
    token = auth.get('token')
    if token is None or token == '':
        raise AuthError('missing_token', 'authentication required: the auth payload has no token')
    if not isinstance(token, str):
        raise AuthError('invalid_token', 'invalid token: the token must be a string')
    if len(token) > MAX_TOKEN_LENGTH:
        raise AuthError('invalid_token', f'invalid token: longer than {MAX_TOKEN_LENGTH} characters')
    try:
        claims = jwt.decode(token, secret, algorithms=['HS256'], options={'require': ['exp', 'sub']})
    except jwt.ExpiredSignatureError:
        raise AuthError('token_expired', 'token expired') from None
    except jwt.InvalidSignatureError:
        raise AuthError('invalid_token', 'invalid token: signature verification failed') from None
    except jwt.InvalidTokenError as exc:
        raise AuthError('invalid_token', f'invalid token: {exc}') from None
    sub = claims.get('sub')
    if not isinstance(sub, str) or not 1 <= len(sub) <= 128:
        raise AuthError('invalid_token', 'invalid token: "sub" must be a string of 1-128 characters')
    return claims
