package io.roomlink.testkit;

import java.util.Random;

/** What the relays share. Lives on the I/O thread: nothing here is touched from any other thread. */
final class ProxyState {
    final IoLoop loop;
    final Random random;
    final Counters counters = new Counters();
    Faults faults = Faults.NONE;

    ProxyState(IoLoop loop, long seed) {
        this.loop = loop;
        this.random = new Random(seed);
    }
}
