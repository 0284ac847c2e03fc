package io.roomlink.bench.worker;

import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.RoomEngine;
import io.roomlink.bench.harness.ClientNetns;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import java.time.Duration;
import java.util.Random;

/**
 * Runs inside the client network namespace (the "link-down" scenario starts it there): joins,
 * then each round takes its own link down with {@code ip link set down}, times the engine's
 * (RECONNECTING, SIGNAL_DISCONNECTED) from just before starting {@code ip}, and brings the link
 * back up. Prints {@code @sample <detection ns> <ip ns>} per round, then {@code @done}, or
 * {@code @err <why>}.
 *
 * <p>Arguments: host port token channel uid interface rounds seed
 */
public final class LinkDownWorker {
    private LinkDownWorker() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        String link = args[5];
        int rounds = Integer.parseInt(args[6]);
        Random phase = new Random(Long.parseLong(args[7]));
        Probe probe = new Probe("link-down");
        try (RoomEngine engine = RoomEngine.create(Local.config(port).server(host, port).plaintext(true).build(), probe)) {
            engine.joinChannel(args[2], args[3], Long.parseLong(args[4]));
            probe.require(0, e -> e.is(ConnectionState.CONNECTED), Local.WAIT, "joined");
            for (int round = 0; round < rounds; round++) {
                // A random point of the keepalive cycle: the watcher must not depend on it.
                Local.sleepMillis(200 + phase.nextInt(800));
                int index = probe.size();
                long before = System.nanoTime();
                ClientNetns.run("ip", "link", "set", link, "down");
                long ipDone = System.nanoTime();
                Probe.Ev down = probe.require(index, e -> e.kind() == Probe.Kind.STATE, Duration.ofSeconds(5),
                        "a state change after link down");
                if (!down.is(ConnectionState.RECONNECTING, ConnectionStateChangeReason.SIGNAL_DISCONNECTED)) {
                    throw new IllegalStateException("first state after link down was " + down);
                }
                System.out.println("@sample " + (down.nanos() - before) + " " + (ipDone - before));
                System.out.flush();
                int upIndex = probe.size();
                ClientNetns.run("ip", "link", "set", link, "up");
                probe.require(upIndex, e -> e.is(ConnectionState.CONNECTED, ConnectionStateChangeReason.REJOIN_SUCCEED),
                        Local.WAIT, "(CONNECTED, REJOIN_SUCCEED) after link up");
            }
            System.out.println("@done");
        } catch (Exception | AssertionError e) {
            System.out.println("@err " + e);
        }
        System.out.flush();
    }
}
