package io.roomlink.bench.worker;

import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.RoomEngine;
import io.roomlink.bench.harness.ClientNetns;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import io.roomlink.server.TokenBuilder;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Runs inside the client network namespace (the "kernel-drop" scenario starts it there): joins
 * {@code engines} engines at the defaults, then for each outage length (and round) cuts them all
 * at once with an nft table that DROPs every TCP and UDP packet to and from the server (so a SYN
 * sent meanwhile is lost and retransmitted by this kernel, as on a dead network), holds the cut,
 * deletes the table in one transaction and times each engine's (CONNECTED, REJOIN_SUCCEED) from
 * just before starting {@code nft delete}. Cuts start at random keepalive phases (seeded).
 *
 * <p>Prints {@code @sample <length s> <recovery ns> <nft delete ns>} per engine and cut,
 * {@code @undetected <length s>} for an engine that never left CONNECTED, {@code @done} at the end,
 * or {@code @err <why>}. The table is deleted on every path out.
 *
 * <p>Arguments: host port tokenSecret appKey engines lengths(comma-separated s) rounds seed
 */
public final class KernelDropWorker {
    private KernelDropWorker() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        String secret = args[2];
        String appKey = args[3];
        int engines = Integer.parseInt(args[4]);
        String[] lengthArgs = args[5].split(",");
        int rounds = Integer.parseInt(args[6]);
        Random phase = new Random(Long.parseLong(args[7]));
        String table = "rlkd" + ProcessHandle.current().pid() % 100_000;
        List<RoomEngine> all = new ArrayList<>();
        List<Probe> probes = new ArrayList<>();
        boolean[] installed = {false};
        try {
            for (int i = 0; i < engines; i++) {
                Probe probe = new Probe("kdrop-" + i);
                RoomEngine engine = RoomEngine.create(Local.config(port).server(host, port).plaintext(true).build(), probe);
                all.add(engine);
                probes.add(probe);
                String channel = "kdrop-" + i;
                engine.joinChannel(TokenBuilder.build(secret, appKey, channel, 1, Instant.now().plus(Duration.ofHours(1))),
                        channel, 1);
            }
            for (Probe p : probes) {
                p.require(0, e -> e.is(ConnectionState.CONNECTED), Local.WAIT, "joined");
            }
            for (int round = 0; round < rounds; round++) {
                for (String l : lengthArgs) {
                    int length = Integer.parseInt(l.trim());
                    cut(table, installed, length, all, probes, phase);
                }
            }
            System.out.println("@done");
        } catch (Exception | AssertionError e) {
            System.out.println("@err " + e);
        } finally {
            if (installed[0]) {
                nft(null, "delete", "table", "inet", table);
            }
            all.forEach(RoomEngine::close);
        }
        System.out.flush();
    }

    private static void cut(String table, boolean[] installed, int length, List<RoomEngine> engines,
                            List<Probe> probes, Random phase) throws Exception {
        for (int i = 0; i < engines.size(); i++) {
            awaitConnected(engines.get(i), probes.get(i));
        }
        // A random point of the keepalive cycle: detection, and so what the cut leaves behind, depends on it.
        Local.sleepMillis(200 + phase.nextInt(800));
        int[] index = new int[probes.size()];
        for (int i = 0; i < probes.size(); i++) {
            index[i] = probes.get(i).size();
        }
        String server = ClientNetns.HOST_ADDRESS;
        long cutAt = System.nanoTime();
        installed[0] = true;
        nft(String.join("\n",
                "add table inet " + table,
                "add chain inet " + table + " out { type filter hook output priority 0; policy accept; }",
                "add chain inet " + table + " in { type filter hook input priority 0; policy accept; }",
                "add rule inet " + table + " out ip daddr " + server + " meta l4proto { tcp, udp } drop",
                "add rule inet " + table + " in ip saddr " + server + " meta l4proto { tcp, udp } drop", ""),
                "-f", "-");
        Local.sleepUntil(cutAt + length * 1_000_000_000L);
        long restoreAt = System.nanoTime();
        nft(null, "delete", "table", "inet", table);
        long deleted = System.nanoTime();
        installed[0] = false;
        // Well past the 1.5 s timeouts the cut must have been seen; a shorter one may still be
        // reported just after the restore (data sent during the cut is retransmitted late).
        boolean mustDetect = length >= 3;
        for (int i = 0; i < probes.size(); i++) {
            Probe p = probes.get(i);
            Probe.Ev down = p.await(index[i], e -> e.is(ConnectionState.RECONNECTING),
                    mustDetect ? Duration.ZERO : Duration.ofMillis(Math.max(0, restoreAt + 2_000_000_000L - System.nanoTime()) / 1_000_000));
            if (down == null) {
                if (mustDetect) {
                    throw new IllegalStateException(p.name + ": a " + length + " s cut was not detected; events: "
                            + p.since(index[i]));
                }
                if (engines.get(i).getConnectionState() != ConnectionState.CONNECTED) {
                    throw new IllegalStateException(p.name + ": no outage reported, yet not CONNECTED");
                }
                System.out.println("@undetected " + length);
                continue;
            }
            Probe.Ev back = p.require(index[i], e -> e.is(ConnectionState.CONNECTED, ConnectionStateChangeReason.REJOIN_SUCCEED),
                    Duration.ofSeconds(30), "(CONNECTED, REJOIN_SUCCEED) after a " + length + " s cut");
            if (mustDetect && back.nanos() < restoreAt) {
                throw new IllegalStateException(p.name + ": rejoined while the DROP rules were in place");
            }
            System.out.println("@sample " + length + " " + Math.max(0, back.nanos() - restoreAt) + " " + (deleted - restoreAt));
        }
        System.out.flush();
    }

    private static void awaitConnected(RoomEngine engine, Probe probe) {
        long deadline = System.nanoTime() + Local.WAIT.toNanos();
        while (engine.getConnectionState() != ConnectionState.CONNECTED) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(probe.name + ": not CONNECTED again within " + Local.WAIT.toMillis()
                        + " ms; events: " + probe.since(Math.max(0, probe.size() - 8)));
            }
            Local.sleepMillis(5);
        }
    }

    /** Runs nft in this (the client's) namespace; {@code script} goes to its stdin. */
    private static void nft(String script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("nft"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            if (script != null) {
                in.write(script.getBytes(StandardCharsets.UTF_8));
            }
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("nft " + String.join(" ", args) + " failed: " + out);
        }
    }
}
