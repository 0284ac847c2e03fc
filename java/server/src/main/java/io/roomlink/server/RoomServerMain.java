package io.roomlink.server;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Standalone server (main class of the shaded {@code -standalone} jar).
 *
 * <pre>
 * java -jar roomlink-server-VERSION-standalone.jar --signal-port 7000 --media-port 7001 \
 *      [--token-secret S] [--bind 0.0.0.0] [--advertise-media host:port] [--session-grace-ms N] \
 *      [--idle-timeout-ms N] [--io-threads N] [--accept-backlog N] [--max-token-lifetime-s N]
 *      [--same-uid-policy newest-wins|reject-newcomer] [--enforce-token-expiry] [--token-expiry-warning-ms N]
 *      [--tls-cert CHAIN.pem --tls-key KEY.pem | --self-signed-tls | --plaintext] [--tls-provider P] [--dev]
 *      [limits: --max-connections N ...]
 * </pre>
 *
 * Without {@code --token-secret} the server would run in debug mode (any token joins as any uid):
 * that is allowed only with {@code --dev} or a loopback {@code --bind}; otherwise it refuses to start.
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
            "  --max-token-lifetime-s N   refuse tokens valid for longer than this from now (default 86400)",
            "  --same-uid-policy P        newest-wins (default: a second login of a uid ends the first) or",
            "                             reject-newcomer (the second login is refused while the first lives)",
            "  --enforce-token-expiry     end a session when its token expires unless the client renews it",
            "  --token-expiry-warning-ms N  warn a session this long before its token expires (default 30000)",
            "  --tls-cert FILE            TLS 1.3 certificate chain, PEM (with --tls-key)",
            "  --tls-key FILE             its private key, PKCS#8 PEM",
            "  --self-signed-tls          TLS 1.3 with a generated self-signed certificate (dev and tests)",
            "  --plaintext                no TLS: only with --dev or a loopback --bind (the default there)",
            "  --tls-provider P           auto (default: BoringSSL where it loads, else the JDK), openssl or jdk",
            "  --dev                      on a non-loopback bind address, allow --plaintext and debug mode",
            "                             (no --token-secret)",
            String.join("\n", LimitFlags.USAGE),
            "  --help                     print this help");

    /** Why a standalone server without a token secret refuses to start on a reachable address. */
    static final String DEBUG_MODE_REFUSED = "no --token-secret: debug mode (ANY token joins as ANY uid) is only "
            + "allowed on a loopback --bind address or with --dev; give --token-secret, or --bind 127.0.0.1, or --dev";

    private static final List<String> OPTIONS = List.of("--signal-port", "--media-port", "--token-secret", "--bind",
            "--advertise-media", "--session-grace-ms", "--idle-timeout-ms", "--io-threads", "--accept-backlog",
            "--max-token-lifetime-s", "--same-uid-policy", "--token-expiry-warning-ms", "--tls-cert", "--tls-key",
            "--tls-provider");
    /** Options that take no value. */
    private static final List<String> FLAGS = List.of("--enforce-token-expiry", "--self-signed-tls", "--plaintext",
            "--dev");

    private RoomServerMain() {
    }

    /** Parsed command line. */
    record Options(int signalPort, int mediaPort, String tokenSecret, String bind, String advertiseHost,
                   int advertisePort, Long sessionGraceMs, Long idleTimeoutMs, Integer ioThreads, Integer acceptBacklog,
                   boolean help, Credentials credentials, String tlsCert, String tlsKey, boolean selfSignedTls,
                   boolean plaintext, LimitFlags limits, SignalTls.Provider tlsProvider) {

        RoomServer.Builder toBuilder() {
            RoomServer.Builder b = RoomServer.builder()
                    .signalPort(signalPort)
                    .mediaPort(mediaPort)
                    .bindAddress(bind)
                    .tokenSecret(tokenSecret);
            if (tlsCert != null) {
                b.tls(java.nio.file.Path.of(tlsCert), java.nio.file.Path.of(tlsKey));
            } else if (selfSignedTls) {
                b.selfSignedTls();
            } else if (plaintext) {
                b.plaintext();
            }
            if (tlsProvider != null) {
                b.tlsProvider(tlsProvider);
            }
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
            if (credentials.maxTokenLifetimeSeconds() != null) {
                b.maxTokenLifetime(Duration.ofSeconds(credentials.maxTokenLifetimeSeconds()));
            }
            if (credentials.sameUidPolicy() != null) {
                b.sameUidPolicy(credentials.sameUidPolicy());
            }
            b.enforceTokenExpiry(credentials.enforceTokenExpiry());
            if (credentials.tokenExpiryWarningMs() != null) {
                b.tokenExpiryWarning(Duration.ofMillis(credentials.tokenExpiryWarningMs()));
            }
            if (limits != null) {
                limits.applyTo(b);
            }
            return b;
        }
    }

    /** The credential options of the command line (null = the builder's default). */
    record Credentials(Long maxTokenLifetimeSeconds, SameUidPolicy sameUidPolicy, boolean enforceTokenExpiry,
                       Long tokenExpiryWarningMs, boolean dev) {
        static final Credentials DEFAULTS = new Credentials(null, null, false, null, false);
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
        Long maxLifetime = null;
        SameUidPolicy sameUid = null;
        boolean enforceExpiry = false;
        Long warningMs = null;
        boolean dev = false;
        String tlsCert = null;
        String tlsKey = null;
        SignalTls.Provider tlsProvider = null;
        LimitFlags limits = new LimitFlags();
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                return new Options(0, 0, null, bind, null, 0, null, null, null, null, true, Credentials.DEFAULTS,
                        null, null, false, false, null, null);
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
            if (FLAGS.contains(name)) {
                if (eq > 0) {
                    throw new UsageException(name + " takes no value");
                }
                if (seen.contains(name)) {
                    throw new UsageException(name + " given twice");
                }
                seen.add(name);
                if (name.equals("--dev")) {
                    dev = true;
                } else if (name.equals("--enforce-token-expiry")) {
                    enforceExpiry = true;
                }
                continue;
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
                case "--max-token-lifetime-s" -> maxLifetime = (long) count(name, value, Integer.MAX_VALUE);
                case "--same-uid-policy" -> sameUid = switch (value) {
                    case "newest-wins" -> SameUidPolicy.NEWEST_WINS;
                    case "reject-newcomer" -> SameUidPolicy.REJECT_NEWCOMER;
                    default -> throw new UsageException(
                            "--same-uid-policy must be newest-wins or reject-newcomer, got '" + value + "'");
                };
                case "--token-expiry-warning-ms" -> warningMs = millis(name, value);
                case "--tls-cert" -> tlsCert = value;
                case "--tls-key" -> tlsKey = value;
                case "--tls-provider" -> {
                    try {
                        tlsProvider = SignalTls.Provider.parse(value);
                    } catch (IllegalArgumentException e) {
                        throw new UsageException("--tls-provider must be auto, openssl or jdk, got '" + value + "'");
                    }
                }
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
        boolean selfSigned = seen.contains("--self-signed-tls");
        boolean plaintext = seen.contains("--plaintext");
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new UsageException("--tls-cert and --tls-key go together");
        }
        if ((tlsCert != null ? 1 : 0) + (selfSigned ? 1 : 0) + (plaintext ? 1 : 0) > 1) {
            throw new UsageException("choose one of --tls-cert/--tls-key, --self-signed-tls and --plaintext");
        }
        boolean loopback = isLoopback(bind);
        if (tlsCert == null && !selfSigned && !plaintext) {
            if (!loopback) {
                throw new UsageException("signaling on " + bind + " needs --tls-cert/--tls-key or --self-signed-tls "
                        + "(or --plaintext --dev for a development server)");
            }
            plaintext = true; // a loopback-only server: nobody else is on the path
        }
        if (plaintext && !loopback && !dev) {
            throw new UsageException("--plaintext on " + bind + " needs --dev: tokens and session secrets would cross "
                    + "the network in the clear");
        }
        return new Options(signalPort, mediaPort, secret, bind, advHost, advPort, grace, idle, ioThreads, backlog, false,
                new Credentials(maxLifetime, sameUid, enforceExpiry, warningMs, dev), tlsCert, tlsKey, selfSigned,
                plaintext, limits, tlsProvider);
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
            if (!o.credentials().dev() && !isLoopback(o.bind())) {
                err.println("roomlink-server: " + DEBUG_MODE_REFUSED);
                return new Result(null, 2);
            }
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

    /** True if {@code bind} names only loopback addresses (an unresolvable name is not loopback). */
    static boolean isLoopback(String bind) {
        try {
            for (InetAddress a : InetAddress.getAllByName(bind)) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
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
