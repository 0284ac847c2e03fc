package io.roomlink.server;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Standalone server (main class of the shaded {@code -standalone} jar).
 *
 * <pre>
 * java -jar roomlink-server-VERSION-standalone.jar --signal-port 7000 --media-port 7001 \
 *      [--token-secret S] [--bind 0.0.0.0] [--advertise-media host:port] [--session-grace-ms N] \
 *      [--idle-timeout-ms N] [--io-threads N] [--accept-backlog N] [limits: --max-connections N ...]
 * </pre>
 *
 * Bad arguments print the usage and exit with status 2; a port that cannot be bound exits with 1.
 * Runs until SIGTERM/SIGINT (a shutdown hook closes the server, telling clients SESSION_END 31009).
 * Prints {@code roomlink server listening signal=PORT media=PORT} on stdout once serving.
 */
public final class RoomServerMain {
    static final String USAGE = String.join("\n",
            "usage: java -jar roomlink-server-standalone.jar --signal-port PORT --media-port PORT [options]",
            "  --signal-port PORT         TCP port for signaling (0 = ephemeral)",
            "  --media-port PORT          UDP port for media (0 = ephemeral)",
            "  --token-secret SECRET      HMAC secret of join tokens; without it: DEBUG MODE, any token accepted",
            "  --bind ADDRESS             address to bind (default 0.0.0.0)",
            "  --advertise-media HOST:PORT  media address told to clients (default: the address they reached)",
            "  --session-grace-ms N       how long a dropped session is kept for resume (default 10000)",
            "  --idle-timeout-ms N        silence after which a connection is dropped (default 3000)",
            "  --io-threads N             I/O event loops, each serving a shard of the rooms (default: cores, at least 2)",
            "  --accept-backlog N         accept queue of the signal port (default 16384; Linux caps it at net.core.somaxconn)",
            String.join("\n", LimitFlags.USAGE),
            "  --help                     print this help");

    private static final List<String> OPTIONS = List.of("--signal-port", "--media-port", "--token-secret", "--bind",
            "--advertise-media", "--session-grace-ms", "--idle-timeout-ms", "--io-threads", "--accept-backlog");

    private RoomServerMain() {
    }

    /** Parsed command line. */
    record Options(int signalPort, int mediaPort, String tokenSecret, String bind, String advertiseHost,
                   int advertisePort, Long sessionGraceMs, Long idleTimeoutMs, Integer ioThreads, Integer acceptBacklog,
                   boolean help, LimitFlags limits) {

        RoomServer.Builder toBuilder() {
            RoomServer.Builder b = RoomServer.builder()
                    .signalPort(signalPort)
                    .mediaPort(mediaPort)
                    .bindAddress(bind)
                    .tokenSecret(tokenSecret);
            if (advertiseHost != null) {
                b.advertisedMediaAddress(advertiseHost, advertisePort);
            }
            if (sessionGraceMs != null) {
                b.sessionGrace(Duration.ofMillis(sessionGraceMs));
            }
            if (idleTimeoutMs != null) {
                b.idleTimeout(Duration.ofMillis(idleTimeoutMs));
            }
            if (ioThreads != null) {
                b.ioThreads(ioThreads);
            }
            if (acceptBacklog != null) {
                b.acceptBacklog(acceptBacklog);
            }
            if (limits != null) {
                limits.applyTo(b);
            }
            return b;
        }
    }

    /** A command line that cannot be run; the message says why. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** Parses {@code args}; never exits. */
    static Options parse(String[] args) throws UsageException {
        Integer signalPort = null;
        Integer mediaPort = null;
        String secret = null;
        String bind = "0.0.0.0";
        String advHost = null;
        int advPort = 0;
        Long grace = null;
        Long idle = null;
        Integer ioThreads = null;
        Integer backlog = null;
        LimitFlags limits = new LimitFlags();
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                return new Options(0, 0, null, bind, null, 0, null, null, null, null, true, null);
            }
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '" + a + "'");
            }
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (!OPTIONS.contains(name) && !LimitFlags.NAMES.contains(name)) {
                throw new UsageException("unknown option " + name);
            }
            if (eq <= 0) {
                if (i + 1 >= args.length) {
                    throw new UsageException(name + " needs a value");
                }
                value = args[++i];
            }
            if (seen.contains(name)) {
                throw new UsageException(name + " given twice");
            }
            seen.add(name);
            switch (name) {
                case "--signal-port" -> signalPort = port(name, value);
                case "--media-port" -> mediaPort = port(name, value);
                case "--token-secret" -> {
                    if (value.isEmpty()) {
                        throw new UsageException("--token-secret must not be empty");
                    }
                    secret = value;
                }
                case "--bind" -> {
                    if (value.isBlank()) {
                        throw new UsageException("--bind must not be empty");
                    }
                    bind = value;
                }
                case "--advertise-media" -> {
                    int colon = value.lastIndexOf(':');
                    if (colon <= 0 || colon == value.length() - 1) {
                        throw new UsageException("--advertise-media must be HOST:PORT, got '" + value + "'");
                    }
                    String host = value.substring(0, colon);
                    if (host.startsWith("[") && host.endsWith("]")) {
                        host = host.substring(1, host.length() - 1); // [IPv6]:port
                    }
                    if (host.isEmpty() || host.length() > 255) {
                        throw new UsageException("--advertise-media host must be 1..255 characters");
                    }
                    advHost = host;
                    advPort = port(name, value.substring(colon + 1));
                    if (advPort == 0) {
                        throw new UsageException("--advertise-media port must be 1..65535");
                    }
                }
                case "--session-grace-ms" -> grace = millis(name, value);
                case "--idle-timeout-ms" -> idle = millis(name, value);
                case "--io-threads" -> ioThreads = count(name, value, 256);
                case "--accept-backlog" -> backlog = count(name, value, Integer.MAX_VALUE);
                default -> {
                    if (!LimitFlags.NAMES.contains(name)) {
                        throw new UsageException("unknown option " + name);
                    }
                    limits.put(name, value);
                }
            }
        }
        if (signalPort == null) {
            throw new UsageException("--signal-port is required");
        }
        if (mediaPort == null) {
            throw new UsageException("--media-port is required");
        }
        return new Options(signalPort, mediaPort, secret, bind, advHost, advPort, grace, idle, ioThreads, backlog, false,
                limits);
    }

    private static int port(String name, String value) throws UsageException {
        try {
            int p = Integer.parseInt(value);
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new UsageException(name + " must be a port number 0..65535, got '" + value + "'");
    }

    private static int count(String name, String value, int max) throws UsageException {
        try {
            int n = Integer.parseInt(value);
            if (n >= 1 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new UsageException(name + " must be a number 1.." + max + ", got '" + value + "'");
    }

    private static long millis(String name, String value) throws UsageException {
        try {
            long ms = Long.parseLong(value);
            if (ms > 0) {
                return ms;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new UsageException(name + " must be a positive number of milliseconds, got '" + value + "'");
    }

    /**
     * Parses {@code args} and starts the server. Never exits the JVM: {@link #main} does that with
     * the returned status when no server is running (2 = bad arguments, 1 = cannot start, 0 = help).
     */
    static Result run(String[] args, PrintStream out, PrintStream err) {
        Options o;
        try {
            o = parse(args);
        } catch (UsageException e) {
            err.println("roomlink-server: " + e.getMessage());
            err.println(USAGE);
            return new Result(null, 2);
        }
        if (o.help()) {
            out.println(USAGE);
            return new Result(null, 0);
        }
        if (o.tokenSecret() == null) {
            err.println("WARNING: " + RoomServer.DEBUG_MODE_WARNING); // the standalone jar has no SLF4J binding
        }
        RoomServer server;
        try {
            server = o.toBuilder().start();
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("roomlink-server: " + e.getMessage());
            return new Result(null, 1);
        }
        out.println("roomlink server listening signal=" + server.signalPort() + " media=" + server.mediaPort());
        out.flush();
        return new Result(server, 0);
    }

    /** Outcome of {@link #run}: a running server, or none and the process exit status. */
    record Result(RoomServer server, int exitStatus) {
    }

    public static void main(String[] args) {
        NettyLogging.install(); // the standalone jar has no SLF4J binding: keep Netty off java.util.logging
        Result r = run(args, System.out, System.err);
        if (r.server() == null) {
            System.exit(r.exitStatus());
            return;
        }
        RoomServer server = r.server();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            System.out.println("roomlink server stopped");
        }, "roomlink-shutdown"));
        // The server's non-daemon threads keep the JVM alive until the hook closes it.
    }
}
