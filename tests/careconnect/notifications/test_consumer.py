"""In-app notifications reach the person's open tabs over the chat socket."""

from __future__ import annotations

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer

from careconnect.accounts.models import User
from careconnect.notifications import services
from careconnect.notifications.models import Kind
from tests.chat.conftest import connect, in_thread, receive
from tests.factories import make_patient

pytestmark = pytest.mark.django_db(transaction=True)


def _notify(user: User) -> str:
    [row] = services.notify(
        recipient=user,
        kind=Kind.BOOKING,
        event="booked",
        key="test-push",
        title="Booked",
        body="Your appointment is booked.",
        link=services.app_link("/appointments"),
        channels={"in_app"},
    )
    services.deliver(row.id)
    return str(row.id)


async def test_in_app_notification_is_pushed_to_every_tab() -> None:
    # given: a person with two tabs, and someone else
    user = await in_thread(make_patient)()
    other = await in_thread(make_patient)()
    tab1, tab2, bystander = await connect(user), await connect(user), await connect(other)
    # when
    notification_id = await in_thread(_notify)(user)
    # then
    for tab in (tab1, tab2):
        frame = await receive(tab, "notification.new")
        assert frame["notification"]["id"] == notification_id
        assert frame["notification"]["title"] == "Booked"
        assert frame["notification"]["kind"] == "booking"
    assert await bystander.receive_nothing(timeout=0.3)
    for tab in (tab1, tab2, bystander):
        await tab.disconnect()


async def test_a_closed_tab_leaves_the_notification_group() -> None:
    layer = get_channel_layer()
    if not isinstance(layer, InMemoryChannelLayer):
        pytest.skip("group membership is only inspectable on the in-memory layer")
    user = await in_thread(make_patient)()
    tab = await connect(user)
    group = services.push_group(user.id)
    assert layer.groups.get(group)
    await tab.disconnect()
    assert not layer.groups.get(group)
