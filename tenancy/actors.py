"""Who is changing the configuration now: the actor that the audit log names.

The actor rides a context variable set where a change can come from, so no service takes it as an argument and
none can forget it: ActorMiddleware sets the signed-in Workbench user for each request (an operator when a staff
superuser, else a member), API key authentication replaces it with the key, a management command acts as the
operator (`acting_as(actor_of_command(...))`) and Outflow's own changes as SYSTEM. Reading it where none is set
raises ActorUnknown, so a new way in that forgets to say who it is fails loudly instead of writing an anonymous entry.
"""

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    type: str
    id: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "id": self.id, "name": self.name}


API_KEY = "api_key"
MEMBER = "member"
OPERATOR = "operator"
SYSTEM_TYPE = "system"
TYPES = (API_KEY, MEMBER, OPERATOR, SYSTEM_TYPE)

SYSTEM = Actor(type=SYSTEM_TYPE, id="", name="Outflow")


class ActorUnknown(RuntimeError):
    """A change of configuration was made where no actor is set."""


# An actor, or a function that finds it when first asked (a request's user is read only if something changes).
_current: ContextVar[Actor | Callable[[], Actor | None] | None] = ContextVar("outflow_actor", default=None)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def actor_set(actor: Actor | Callable[[], Actor]) -> None:
    """The actor for the rest of the current context: API key authentication, inside the request's context that
    ActorMiddleware resets afterwards, or a standalone script such as a benchmark's."""
    _current.set(actor)


def actor_current() -> Actor:
    found = _current.get()
    if callable(found):
        found = found()
    if found is None:
        raise ActorUnknown("a change of configuration needs an actor (see tenancy/actors.py)")
    return found


def actor_of_user(user) -> Actor | None:
    if user is None or not user.is_authenticated:
        return None
    return Actor(type=OPERATOR if user.is_superuser else MEMBER, id=str(user.pk), name=user.get_username())


def actor_of_api_key(api_key) -> Actor:
    return Actor(type=API_KEY, id=str(api_key.pk), name=str(api_key))


def actor_of_command(command: str) -> Actor:
    """An operator at the command line: named by the command and the system user who ran it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container may run as a uid with no name
        user = "unknown user"
    return Actor(type=OPERATOR, id="", name=f"manage.py {command} ({user})")


class ActorMiddleware:
    """Each request starts with its signed-in user as the actor (read lazily) and leaves no actor behind."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current.set(lambda: actor_of_user(getattr(request, "user", None)))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
