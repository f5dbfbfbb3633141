"""The four strategies. The sleeps stand in for slow, I/O-bound tests."""

import os
import time

import pytest


#  free (the default): each test runs in its own process, side by side with others.
@pytest.mark.parametrize("n", range(6))
def test_free_query(n, shared_workspace, service_up):
    time.sleep(0.3)
    #  The isolated_serial migration below never runs while this test does.
    assert (shared_workspace / "database.txt").read_text() == "schema v1"


#  serial: the whole group runs in one process, in file order, so module state and
#  session fixtures carry over from one test to the next.
_cart = []


@pytest.mark.mp_group("Cart", "serial")
class TestCart:
    def test_add_item(self, service_up):
        time.sleep(0.2)
        _cart.append(("apple", os.getpid()))

    def test_item_still_there(self, service_up):
        assert _cart == [("apple", os.getpid())]


#  isolated_free: the group's tests run in parallel with each other, but while any of
#  them runs, no test of another group runs anywhere.
@pytest.mark.mp_group("Outage", "isolated_free")
@pytest.mark.parametrize("n", range(3))
def test_restart_service(n, service_outage):
    time.sleep(0.3)


#  isolated_serial: one process, in file order, with nothing else running at all.
@pytest.mark.mp_group("Migration", "isolated_serial")
class TestMigration:
    def test_upgrade(self, shared_workspace):
        database = shared_workspace / "database.txt"
        database.write_text("schema v2")
        time.sleep(0.2)
        assert database.read_text() == "schema v2"

    def test_downgrade(self, shared_workspace):
        database = shared_workspace / "database.txt"
        assert database.read_text() == "schema v2"
        database.write_text("schema v1")


#  A test with no strategy of its own takes its group's, even from a later test.
@pytest.mark.mp_group("Checkout")
def test_checkout_opens():
    time.sleep(0.1)


@pytest.mark.mp_group("Checkout", "serial")
def test_checkout_pays():
    time.sleep(0.1)
