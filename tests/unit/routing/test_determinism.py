"""Same events at the same times: the same decisions, whatever engine instance runs them."""

from allo.domain.channels import Channel
from allo.routing import AdviserReady, ContactArrived, Decision, OfferAccepted, RoutingEvent, Tick

from .factory import FRANCE, FRANCE_ONLY, LILLE, PARIS, RABAT, TUNIS, adviser, engine


def script() -> list[tuple[RoutingEvent, float]]:
    events: list[tuple[RoutingEvent, float]] = [(AdviserReady(i), float(i)) for i in range(1, 9)]
    options = (FRANCE, FRANCE_ONLY, FRANCE)
    for n in range(30):
        channel = (Channel.VOICE, Channel.CHAT, Channel.EMAIL)[n % 3]
        events.append((ContactArrived(100 + n, 1, channel, option=options[n % 3]), 10.0 + n))
    events += [(OfferAccepted(100, 1), 50.0), (Tick(), 200.0)]
    return events


def play() -> list[Decision]:
    sites = (PARIS, LILLE, RABAT, TUNIS)
    e = engine([adviser(i, sites[i % 4]) for i in range(1, 9)])
    out: list[Decision] = []
    for event, now in script():
        out += e.handle(event, now)
    return out


def test_the_engine_is_deterministic() -> None:
    first = play()
    assert first == play()
    assert len(first) > 30
