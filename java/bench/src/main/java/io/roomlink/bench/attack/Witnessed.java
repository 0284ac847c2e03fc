package io.roomlink.bench.attack;

import io.roomlink.RoomEngine;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import io.roomlink.server.TokenBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Two engines joined in one channel of the attacked server; counts what they see afterwards. */
public final class Witnessed implements AutoCloseable {
    private final List<RoomEngine> engines = new ArrayList<>();
    private final List<Probe> probes = new ArrayList<>();
    private final int[] baselines = new int[2];

    public Witnessed(int port, String channel) {
        for (int i = 0; i < 2; i++) {
            Probe p = new Probe("witness-" + i);
            RoomEngine e = RoomEngine.create(Local.config(port).plaintext(true).build(), p); // loopback: plaintext
            engines.add(e);
            probes.add(p);
            e.joinChannel(token(channel, 100 + i), channel, 100 + i);
        }
        for (int i = 0; i < 2; i++) {
            Probe p = probes.get(i);
            long other = 100 + (1 - i);
            p.require(0, ev -> ev.kind() == Probe.Kind.USER_JOINED && ev.uid() == other, Local.WAIT,
                    "witness " + i + " to see the other");
        }
        for (int i = 0; i < 2; i++) {
            baselines[i] = probes.get(i).size();
        }
    }

    static String token(String channel, long uid) {
        return TokenBuilder.build(AttackedServer.SECRET, Local.APP_KEY, channel, uid, Instant.now().plusSeconds(3600));
    }

    /** State changes and leaves the witnesses saw since both were joined. */
    public int disturbances() {
        int n = 0;
        for (int i = 0; i < 2; i++) {
            for (Probe.Ev e : probes.get(i).since(baselines[i])) {
                if (e.kind() == Probe.Kind.STATE || e.kind() == Probe.Kind.USER_LEFT || e.kind() == Probe.Kind.DISCONNECT) {
                    n++;
                }
            }
        }
        return n;
    }

    @Override
    public void close() {
        engines.forEach(RoomEngine::close);
    }
}
