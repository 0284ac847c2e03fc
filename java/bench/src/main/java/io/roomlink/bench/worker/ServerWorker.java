package io.roomlink.bench.worker;

import io.roomlink.server.RoomServer;
import io.roomlink.server.ServerStats;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The room server in a JVM of its own, for the multi-JVM scenarios: the same {@link RoomServer}
 * that io.roomlink.server.RoomServerMain runs, with the same options, plus a control line on
 * stdin so that the harness can read its session count and heap:
 *
 * <pre>
 * args:   --signal-port P --media-port P --token-secret S [--session-grace-ms N] [--idle-timeout-ms N]
 * prints: "@listening signal=P media=P" once serving ("@err ..." and exit 1 if it cannot bind)
 * stdin:  "stats" or "stats gc" -> "@ok sessions=N joins=N resumes=N ... heapUsed=BYTES heapCommitted=BYTES"
 *         "exit" or end of input  -> closes the server and exits
 * </pre>
 */
final class ServerWorker {
    private ServerWorker() {
    }

    public static void main(String[] args) throws IOException {
        // Plaintext: the bench's wire clients (WireClientWorker) speak the bare protocol, and the
        // engines of a separate ClientWorker JVM could not trust this JVM's self-signed certificate.
        // Every bench client comes from 127.0.0.1: the per-address limits, meant for one client's
        // share of a public server, would measure themselves instead of the server.
        RoomServer.Builder b = RoomServer.builder().bindAddress("127.0.0.1").plaintext()
                .maxConnectionsPerIp(Integer.MAX_VALUE).joinRatePerIp(Integer.MAX_VALUE, Integer.MAX_VALUE)
                .connectionRatePerIp(Integer.MAX_VALUE, Integer.MAX_VALUE);
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--signal-port" -> b.signalPort(Integer.parseInt(v));
                case "--media-port" -> b.mediaPort(Integer.parseInt(v));
                case "--token-secret" -> b.tokenSecret(v);
                case "--bind" -> b.bindAddress(v);
                case "--session-grace-ms" -> b.sessionGrace(Duration.ofMillis(Long.parseLong(v)));
                case "--idle-timeout-ms" -> b.idleTimeout(Duration.ofMillis(Long.parseLong(v)));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        RoomServer server;
        try {
            server = b.start();
        } catch (RuntimeException e) {
            System.out.println("@err " + e.getMessage().replace('\n', ' '));
            System.out.flush();
            System.exit(1);
            return;
        }
        System.out.println("@listening signal=" + server.signalPort() + " media=" + server.mediaPort()
                + " pid=" + ProcessHandle.current().pid());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            line = line.trim();
            if (line.equals("exit")) {
                break;
            }
            if (line.startsWith("stats")) {
                if (line.endsWith("gc")) {
                    System.gc();
                }
                ServerStats s = server.stats();
                MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
                System.out.println("@ok sessions=" + server.sessionCount() + " joins=" + s.joins() + " resumes=" + s.resumes()
                        + " joinRejects=" + s.joinRejects() + " graceExpiries=" + s.graceExpiries()
                        + " idleDisconnects=" + s.idleDisconnects() + " heapUsed=" + heap.getUsed()
                        + " heapCommitted=" + heap.getCommitted() + " jitMs="
                        + ManagementFactory.getCompilationMXBean().getTotalCompilationTime());
            } else if (line.equals("clock")) {
                System.out.println("@ok ns=" + System.nanoTime());
            } else {
                System.out.println("@err unknown command " + line);
            }
            System.out.flush();
        }
        server.close();
        System.exit(0);
    }
}
