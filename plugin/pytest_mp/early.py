"""A run started before the front end has collected (embedded daemons only): its
zygote collects while the front end does, instead of after it. The coordinator
offers such a run to the agents present at once; their zygotes skip the checkout
comparison (they share the front end's directory), and the plan follows as usual."""

import threading

from .wire import WireError

CANCEL_WAIT_S = 5.0


class EarlyStart:
    """Connects, waits for the agents and submits the run on a thread of its own, so
    that collection goes on meanwhile. take() hands over the client and the run."""

    def __init__(self, connect, wait_for_agents, submit):
        self.client = None
        self.run = None
        self.error = None
        self._thread = threading.Thread(target=self._start, name="pytest-mp-early-start",
                                        args=(connect, wait_for_agents, submit), daemon=True)
        self._thread.start()

    def _start(self, connect, wait_for_agents, submit):
        try:
            self.client = connect()
            wait_for_agents(self.client)
            self.run = submit(self.client)
        except BaseException as error:  # raised again by take(), in the main thread
            self.error = error

    def take(self):
        """(client, run id); raises what the start raised."""
        self._thread.join()
        if self.error is not None:
            if self.client is not None:
                self.client.close()
            raise self.error
        return self.client, self.run

    def cancel(self):
        """For a run that will not be planned (nothing collected, collection errors):
        its zygotes are told to leave. A start still waiting for agents after a few
        seconds is left to die with this process (the embedded daemons are stopped
        next, which ends the run anyway)."""
        self._thread.join(CANCEL_WAIT_S)
        if self._thread.is_alive() or self.client is None:
            return
        if self.run is not None:
            try:
                self.client.request("CANCEL", run=self.run, timeout=2000)
            except WireError:
                pass
        self.client.close()
