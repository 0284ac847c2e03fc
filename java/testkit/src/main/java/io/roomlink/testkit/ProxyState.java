package io.roomlink.testkit;

import java.util.Random;

/** What the relays share. Lives on the I/O thread: nothing here is touched from any other thread. */
final class ProxyState {
    final IoLoop loop;
    final Random random;
    final Counters counters = new Counters();
    /** The proxy's own media address: what JOIN_OK and RESUME_OK are rewritten to. */
    final String mediaHost;
    final int mediaPort;
    Faults faults = Faults.NONE;
    /** {@link FaultProxy#rewriteMediaAddress(boolean)}. */
    boolean rewriteMediaAddress = true;
    /** {@link FaultProxy#forwardMediaTo} was called: media through this proxy has somewhere to go. */
    boolean mediaTargetSet;

    ProxyState(IoLoop loop, long seed, String mediaHost, int mediaPort) {
        this.loop = loop;
        this.random = new Random(seed);
        this.mediaHost = mediaHost;
        this.mediaPort = mediaPort;
    }

    /** Whether JOIN_OK/RESUME_OK frames completed now get the proxy's media address. */
    boolean rewritingMediaAddress() {
        return rewriteMediaAddress && mediaTargetSet;
    }
}
