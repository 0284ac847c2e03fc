package io.roomlink;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Faults made by the kernel, not by a proxy, on a {@link ClientNamespace}'s network: what a real
 * network does to the client's packets.
 * <ul>
 *   <li>{@link #cutSilently()}: an nft table inside the client's namespace that DROPs every TCP and
 *   UDP packet to and from the server (output and input hooks), as a pulled cable further upstream
 *   does. Nothing is answered, nothing is refused: a SYN sent meanwhile is lost and the client's
 *   kernel retransmits it on its own schedule (1 s, 3 s, 7 s ...). The link and its address stay
 *   up, so the host's network watcher sees nothing either. {@link #restore()} deletes the table in
 *   one nft transaction.</li>
 *   <li>{@link #randomLoss(int)}: nft {@code numgen random} drops {@code percent} % of the
 *   client's packets in each direction, independently per packet.</li>
 *   <li>{@link #netemLoss(int)}: {@code tc qdisc ... netem loss}, on the egress of both ends of
 *   the veth (so both directions), where the kernel has netem (sch_netem).</li>
 * </ul>
 * Names carry the JVM's pid (as the namespace's do). {@link #close()} removes whatever is still
 * installed, and the namespace's own close removes the rest with it.
 */
final class KernelFaults implements AutoCloseable {
    private final ClientNamespace net;
    /** The nft table used for cuts and loss, inside the client's namespace. */
    final String table;
    private boolean tableInstalled;
    private final List<String[]> qdiscRemovals = new ArrayList<>();

    KernelFaults(ClientNamespace net) {
        this.net = net;
        this.table = "rlkf" + ProcessHandle.current().pid() % 100_000;
    }

    /** Null if nft works inside the namespace, else why not (for the tests' assumptions). */
    String nftUnavailableReason() throws Exception {
        if (List.of("/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft").stream()
                .noneMatch(p -> Files.isExecutable(Path.of(p)))) {
            return "the 'nft' command (nftables) is not installed";
        }
        Result r = exec(null, inNamespace("nft", "add", "table", "inet", table + "p"));
        if (r.exit != 0) {
            return "'nft add table' failed inside the namespace (no nf_tables in this kernel?): " + r.output.trim();
        }
        exec(null, inNamespace("nft", "delete", "table", "inet", table + "p"));
        return null;
    }

    /**
     * Null if {@code tc qdisc add ... netem} works on the namespace's veth, else why not. It adds a
     * harmless netem qdisc and deletes it again.
     */
    String netemUnavailableReason() throws Exception {
        if (List.of("/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc", "/bin/tc").stream()
                .noneMatch(p -> Files.isExecutable(Path.of(p)))) {
            return "the 'tc' command (iproute2) is not installed";
        }
        Result r = exec(null, inNamespace("tc", "qdisc", "add", "dev", net.clientSide, "root", "netem", "delay", "0ms"));
        if (r.exit != 0) {
            return "'tc qdisc add ... netem' failed (no sch_netem in this kernel " + System.getProperty("os.version")
                    + "?): " + r.output.trim();
        }
        exec(null, inNamespace("tc", "qdisc", "del", "dev", net.clientSide, "root"));
        return null;
    }

    /** DROPs every TCP and UDP packet between the client's namespace and the server, both ways. */
    void cutSilently() throws Exception {
        String server = ClientNamespace.SERVER_ADDRESS;
        install(String.join("\n",
                "add table inet " + table,
                "add chain inet " + table + " out { type filter hook output priority 0; policy accept; }",
                "add chain inet " + table + " in { type filter hook input priority 0; policy accept; }",
                "add rule inet " + table + " out ip daddr " + server + " meta l4proto { tcp, udp } drop",
                "add rule inet " + table + " in ip saddr " + server + " meta l4proto { tcp, udp } drop", ""));
    }

    /** Drops {@code percent} % of the client's packets each way, at random, with nft. */
    void randomLoss(int percent) throws Exception {
        install(String.join("\n",
                "add table inet " + table,
                "add chain inet " + table + " out { type filter hook output priority 0; policy accept; }",
                "add chain inet " + table + " in { type filter hook input priority 0; policy accept; }",
                "add rule inet " + table + " out oifname \"" + net.clientSide + "\" numgen random mod 100 < "
                        + percent + " drop",
                "add rule inet " + table + " in iifname \"" + net.clientSide + "\" numgen random mod 100 < "
                        + percent + " drop", ""));
    }

    /** netem loss on the egress of both ends of the veth: {@code percent} % each way. */
    void netemLoss(int percent) throws Exception {
        check(exec(null, inNamespace("tc", "qdisc", "add", "dev", net.clientSide, "root", "netem", "loss",
                percent + "%")), "netem on the client side");
        qdiscRemovals.add(inNamespace("tc", "qdisc", "del", "dev", net.clientSide, "root"));
        check(exec(null, List.of("tc", "qdisc", "add", "dev", net.hostSide, "root", "netem", "loss", percent + "%")),
                "netem on the host side");
        qdiscRemovals.add(new String[] {"tc", "qdisc", "del", "dev", net.hostSide, "root"});
    }

    /** Removes the nft table (one transaction) and any netem qdisc: the network is whole again. */
    void restore() throws Exception {
        if (tableInstalled) {
            check(exec(null, inNamespace("nft", "delete", "table", "inet", table)), "nft delete table");
            tableInstalled = false;
        }
        removeQdiscs(true);
    }

    /** What nft has in the client's namespace now (for messages and for the leak check). */
    String ruleset() throws Exception {
        return exec(null, inNamespace("nft", "list", "ruleset")).output;
    }

    @Override
    public void close() throws Exception {
        if (tableInstalled) {
            exec(null, inNamespace("nft", "delete", "table", "inet", table));
            tableInstalled = false;
        }
        removeQdiscs(false);
    }

    /**
     * After {@code net} is closed: null if nothing of it is left (its namespace, with any nft table
     * or qdisc inside it, and the host end of its veth, with any qdisc on it), else what is.
     */
    static String leftBehind(ClientNamespace net) throws Exception {
        List<String> left = new ArrayList<>();
        if (exec(null, "ip", "netns", "list").output.lines().anyMatch(l -> l.split(" ")[0].equals(net.namespace))) {
            left.add("namespace " + net.namespace);
        }
        if (exec(null, "ip", "link", "show", "dev", net.hostSide).exit == 0) {
            left.add("link " + net.hostSide + " (qdiscs: "
                    + exec(null, "tc", "qdisc", "show", "dev", net.hostSide).output.trim() + ")");
        }
        return left.isEmpty() ? null : String.join(", ", left);
    }

    private void install(String script) throws Exception {
        if (tableInstalled) {
            throw new IllegalStateException("a fault is already installed in " + table);
        }
        tableInstalled = true; // set first: a half-made table is removed too
        check(exec(script, inNamespace("nft", "-f", "-")), "nft -f -:\n" + script);
    }

    private void removeQdiscs(boolean strict) throws Exception {
        List<String[]> removals = new ArrayList<>(qdiscRemovals);
        qdiscRemovals.clear();
        for (String[] command : removals) {
            Result r = exec(null, command);
            if (strict) {
                check(r, "tc qdisc del");
            }
        }
    }

    private String[] inNamespace(String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", net.namespace));
        full.addAll(List.of(command));
        return full.toArray(new String[0]);
    }

    private static void check(Result r, String what) {
        if (r.exit != 0) {
            throw new IllegalStateException(what + " failed (" + r.exit + "): " + r.output);
        }
    }

    private record Result(int exit, String output) {
    }

    private static Result exec(String stdin, List<String> command) throws Exception {
        return exec(stdin, command.toArray(new String[0]));
    }

    private static Result exec(String stdin, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, String.join(" ", command) + ": timed out; " + output);
        }
        return new Result(p.exitValue(), output);
    }
}
