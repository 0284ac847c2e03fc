package io.roomlink.bench.scenario;

import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.report.Metric;
import io.roomlink.bench.report.ProcStats;
import io.roomlink.bench.report.Report;
import io.roomlink.bench.worker.Cluster;
import io.roomlink.bench.worker.WorkerProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Idle joined sessions that one server node holds: engines spread over client JVMs join in steps;
 * after each step every session must stay up through a hold period (no outage on any client,
 * every engine CONNECTED, the server's session count exact). The last step that held is the
 * capacity; the first that did not says what limited it. Idle sessions still keep alive:
 * signaling and media pings at the configured intervals are the whole load.
 */
final class Capacity extends Scenario {
    Capacity() {
        super("capacity", "server capacity");
    }

    record Profile(String label, String knobsText, Map<String, Integer> knobs, List<String> serverOptions) {
    }

    record Step(int sessions, double serverCpu, double clientCpu, double machineBusy, long serverRssKb, long serverHeap,
                long outages, long connected, long serverSessions, String problem) {
    }

    @Override
    public void run(Bench bench) throws Exception {
        int workers = bench.size(2, 4);
        int[] steps = bench.quick ? new int[] {200, 400}
                : new int[] {500, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 12500, 15000, 17500, 20000};
        String stepsOverride = System.getProperty("bench.capacitySteps"); // e.g. "5000,10000" for a focused run
        if (stepsOverride != null && !stepsOverride.isBlank()) {
            steps = java.util.Arrays.stream(stepsOverride.split(",")).mapToInt(v -> Integer.parseInt(v.trim())).toArray();
        }
        int holdSeconds = Integer.getInteger("bench.capacityHoldSeconds", bench.size(2, 10)); // longer: to profile a step
        config.put("clientJvms", workers);
        config.put("steps", java.util.Arrays.toString(steps));
        config.put("holdSeconds", holdSeconds);
        config.put("perChannel", 10);
        config.put("joining", "each step joins with at most 100 joins in flight per client JVM");
        Map<String, Integer> defaults = new LinkedHashMap<>();
        defaults.put("joinTimeout", 60000);
        List<Profile> profiles = new ArrayList<>();
        profiles.add(new Profile("defaults", "default keepalives: signal 1 s, media 500 ms", defaults, List.of()));
        profiles.removeIf(p -> !Bench.profileWanted(p.label()));
        for (Profile p : profiles) {
            config.put("profile." + p.label(), p.knobsText());
            ramp(bench, p, workers, steps, holdSeconds);
        }
    }

    private void ramp(Bench bench, Profile profile, int workers, int[] steps, int holdSeconds) throws Exception {
        List<Step> done = new ArrayList<>();
        Step failedStep = null;
        String fdNote;
        long baseRss;
        long baseHeap;
        try (Cluster cluster = new Cluster(bench, "capacity-" + profile.label())) {
            cluster.startServer(0, 0, profile.serverOptions());
            cluster.startClients(workers, "-Xmx2g", false);
            cluster.checkClocks();
            String fdLimit = openFilesLimit(cluster.server.pid());
            config.put("serverOpenFilesLimit", fdLimit);
            fdNote = "the server JVM may open " + fdLimit + " files (one TCP socket per session)";
            long fdCeiling = sessionCeiling(cluster.server.pid());
            if (steps[steps.length - 1] > fdCeiling) {
                steps = capSteps(steps, (int) fdCeiling);
                fdNote += "; the last step is the most sessions that limit leaves room for: the limit minus the "
                        + ProcStats.openFds(cluster.server.pid()) + " files the server holds with no session, minus "
                        + FD_MARGIN + " in reserve (it cannot be raised here: the hard limit is the same and the "
                        + "container withholds CAP_SYS_RESOURCE)";
                config.put("stepsTried", java.util.Arrays.toString(steps));
            }
            Map<String, String> empty = cluster.serverStats(true);
            baseRss = ProcStats.rssKb(cluster.server.pid());
            baseHeap = WorkerProcess.asLong(empty, "heapUsed");
            int current = 0;
            long nextUid = 1;
            for (int target : steps) {
                int add = target - current;
                long[] firstUid = new long[workers];
                int[] count = new int[workers];
                for (int w = 0; w < workers; w++) {
                    count[w] = add / workers + (w < add % workers ? 1 : 0);
                    firstUid[w] = nextUid;
                    nextUid += count[w];
                }
                bench.log("capacity (%s): %d → %d sessions", profile.label(), current, target);
                cluster.all("mark", Duration.ofSeconds(60));
                cluster.all(w -> "create " + count[w] + " " + firstUid[w] + " 127.0.0.1 " + cluster.signalPort
                        + Cluster.knobs(profile.knobs()), Duration.ofSeconds(600));
                Map<String, Long> tcpBefore = ProcStats.tcpExt(ProcStats.TCP_TROUBLE);
                long joinStart = System.nanoTime();
                List<Map<String, String>> joins = cluster.all("join 10 cap- " + Cluster.SECRET + " 120000 100",
                        Duration.ofSeconds(600));
                double joinSeconds = (System.nanoTime() - joinStart) / 1e9;
                String tcp = ProcStats.tcpDelta(tcpBefore, ProcStats.tcpExt(ProcStats.TCP_TROUBLE));
                current = target;
                long ok = 0;
                for (Map<String, String> j : joins) {
                    ok += WorkerProcess.asLong(j, "ok");
                }
                if (ok < add) {
                    java.util.TreeMap<String, Long> why = new java.util.TreeMap<>();
                    long failedJoins = 0;
                    for (Map<String, String> j : joins) {
                        failedJoins += WorkerProcess.asLong(j, "failed");
                        mergeReasons(why, j.get("why"));
                    }
                    java.util.TreeMap<String, Long> seen = new java.util.TreeMap<>();
                    for (Map<String, String> s : cluster.all("status", Duration.ofSeconds(120))) {
                        mergeReasons(seen, s.get("reasons"));
                    }
                    failedStep = new Step(target, Double.NaN, Double.NaN, Double.NaN, 0, 0, 0, ok, 0,
                            (add - ok) + " of " + add + " joins did not succeed within 120 s (" + failedJoins
                                    + " failed: " + why + "; the rest had no answer); joining took "
                                    + Report.fmt(joinSeconds) + " s; seen meanwhile: " + seen);
                    bench.log("capacity (%s): %d sessions: %s", profile.label(), target, failedStep.problem());
                    break;
                }
                java.util.TreeMap<String, Long> joinReasons = new java.util.TreeMap<>();
                for (Map<String, String> s : cluster.all("status", Duration.ofSeconds(120))) {
                    mergeReasons(joinReasons, s.get("reasons"));
                }
                Local.sleepMillis(1000);
                cluster.all("mark", Duration.ofSeconds(60));
                long serverTicks = ProcStats.cpuTicks(cluster.server.pid());
                long clientTicks = cluster.totalCpuTicks();
                long[] machine = ProcStats.machineJiffies();
                Map<String, Long> holdBefore = ProcStats.tcpExt(ProcStats.TCP_TROUBLE);
                bench.log("capacity (%s): holding %d sessions for %d s", profile.label(), target, holdSeconds);
                long t0 = System.nanoTime();
                Local.sleepMillis(holdSeconds * 1000L);
                long t1 = System.nanoTime();
                String holdCounters = ProcStats.tcpDelta(holdBefore, ProcStats.tcpExt(ProcStats.TCP_TROUBLE));
                double serverCpu = ProcStats.cpuPercent(serverTicks, ProcStats.cpuTicks(cluster.server.pid()), t1 - t0);
                double clientCpu = ProcStats.cpuPercent(clientTicks, cluster.totalCpuTicks(), t1 - t0);
                double machineBusy = ProcStats.machineBusyPercent(machine, ProcStats.machineJiffies());
                long outages = 0;
                long connected = 0;
                long[] states = new long[5];
                java.util.TreeMap<String, Long> reasons = new java.util.TreeMap<>();
                String[] stateNames = {"connected", "connecting", "reconnecting", "failed", "disconnected"};
                for (Map<String, String> s : cluster.all("status core", Duration.ofSeconds(120))) {
                    outages += WorkerProcess.asLong(s, "outages");
                    connected += WorkerProcess.asLong(s, "coreConnected");
                    for (int k = 0; k < states.length; k++) {
                        states[k] += WorkerProcess.asLong(s, stateNames[k]);
                    }
                    mergeReasons(reasons, s.get("reasons"));
                }
                long serverFds = ProcStats.openFds(cluster.server.pid());
                Map<String, String> stats = cluster.serverStats(true);
                long sessions = WorkerProcess.asLong(stats, "sessions");
                long rss = ProcStats.rssKb(cluster.server.pid());
                long heap = WorkerProcess.asLong(stats, "heapUsed");
                String problem = null;
                if (outages > 0 || connected != target || sessions != target) {
                    StringBuilder st = new StringBuilder();
                    for (int k = 0; k < states.length; k++) {
                        if (states[k] > 0) {
                            st.append(st.length() == 0 ? "" : ", ").append(stateNames[k]).append(' ').append(states[k]);
                        }
                    }
                    problem = outages + " outage(s) during the " + holdSeconds + " s hold; " + connected + " of " + target
                            + " CONNECTED (" + st + "); server holds " + sessions + " sessions, " + serverFds
                            + " open fds; joining the step took " + Report.fmt(joinSeconds) + " s (kernel counters: " + tcp
                            + "); kernel counters during the hold: " + holdCounters
                            + (reasons.isEmpty() ? "" : "; seen during the hold: " + reasons)
                            + (joinReasons.isEmpty() ? "" : "; seen while joining: " + joinReasons);
                }
                Step step = new Step(target, serverCpu, clientCpu, machineBusy, rss, heap, outages, connected, sessions, problem);
                bench.log("capacity (%s): %d sessions: server CPU %.0f %% of a core, clients %.0f %%, machine %.0f %%, "
                                + "server RSS %d MiB%s", profile.label(), target, serverCpu, clientCpu, machineBusy,
                        rss / 1024, problem == null ? "" : " — " + problem);
                if (problem != null) {
                    failedStep = step;
                    break;
                }
                done.add(step);
            }
        }
        check(!done.isEmpty() || failedStep != null, "no step was measured");
        Step best = done.isEmpty() ? null : done.get(done.size() - 1);
        int reached = best == null ? 0 : best.sessions();
        bench.shared.put("capacity." + profile.label(), reached);
        Metric m = Metric.value(id(), "server capacity, idle sessions (" + profile.knobsText() + ")", "sessions",
                reached + " sessions held", reached);
        m.goal("≥ 20,000 sessions", x -> reached >= 20000);
        m.note(fdNote);
        StringBuilder held = new StringBuilder();
        for (Step s : done) {
            held.append(held.length() == 0 ? "" : "; ").append(s.sessions()).append(": server ")
                    .append(Report.fmt(s.serverCpu())).append(" % CPU, clients ").append(Report.fmt(s.clientCpu()))
                    .append(" %, machine ").append(Report.fmt(s.machineBusy())).append(" %");
        }
        m.note("held: " + (held.length() == 0 ? "none" : held));
        if (failedStep != null) {
            m.note("stopped at " + failedStep.sessions() + ": " + failedStep.problem()
                    + (Double.isNaN(failedStep.serverCpu()) ? "" : " (server " + Report.fmt(failedStep.serverCpu())
                    + " % of a core, clients " + Report.fmt(failedStep.clientCpu()) + " %, machine "
                    + Report.fmt(failedStep.machineBusy()) + " % busy)"));
        } else {
            m.note("every step held; the largest step is the size tried");
        }
        if (best != null) {
            m.extra("serverCpuPercentOfOneCore", best.serverCpu()).extra("machineBusyPercent", best.machineBusy());
            double rssPer = (best.serverRssKb() - baseRss) * 1024.0 / best.sessions();
            double heapPer = (best.serverHeap() - baseHeap) / (double) best.sessions();
            m.extra("serverRssBytesPerSession", rssPer).extra("serverHeapBytesPerSession", heapPer);
            m.note("at " + best.sessions() + ": server RSS " + best.serverRssKb() / 1024 + " MiB (" + Report.fmt(rssPer / 1024)
                    + " KiB/session), live heap " + Report.fmt(heapPer / 1024) + " KiB/session, server CPU "
                    + Report.fmt(best.serverCpu()) + " % of one core");
            add(m);
            add(Metric.value(id(), "server cost per idle session (" + profile.label() + ", at " + best.sessions() + ")",
                    "", "heap " + Report.fmt(heapPer / 1024) + " KiB, RSS " + Report.fmt(rssPer / 1024) + " KiB, CPU "
                            + Report.fmt(best.serverCpu() / best.sessions() * 1000) + " % of a core per 1,000",
                    best.sessions()).goalText("report"));
        } else {
            add(m);
        }
        List<Map<String, Object>> log = new ArrayList<>();
        for (Step s : done) {
            log.add(stepJson(s));
        }
        if (failedStep != null) {
            log.add(stepJson(failedStep));
        }
        m.extra("steps", log);
    }

    /** Adds a worker's "k:n,k:n" reason counts into {@code into}. */
    static void mergeReasons(Map<String, Long> into, String list) {
        if (list == null || list.isEmpty()) {
            return;
        }
        for (String kv : list.split(",")) {
            int colon = kv.lastIndexOf(':');
            into.merge(kv.substring(0, colon), Long.parseLong(kv.substring(colon + 1)), Long::sum);
        }
    }

    /** "soft/hard" of the process's open-files limit. */
    /** Files kept free for what the server opens besides sessions (accepts racing a close, jars, epoll). */
    private static final int FD_MARGIN = 64;

    /** Sessions the server process can still open sockets for, or Long.MAX_VALUE when its limit is unknown. */
    private static long sessionCeiling(long pid) {
        String[] limit = ProcStats.openFilesLimit(Long.toString(pid));
        if (limit == null || !limit[0].chars().allMatch(Character::isDigit)) {
            return Long.MAX_VALUE; // unknown or "unlimited": no ceiling
        }
        return Long.parseLong(limit[0]) - ProcStats.openFds(pid) - FD_MARGIN;
    }

    /** The steps below {@code ceiling}, then {@code ceiling} itself as the last one. */
    static int[] capSteps(int[] steps, int ceiling) {
        return java.util.stream.IntStream.concat(java.util.Arrays.stream(steps).filter(v -> v < ceiling),
                java.util.stream.IntStream.of(ceiling)).toArray();
    }

    static String openFilesLimit(long pid) {
        String[] limit = ProcStats.openFilesLimit(Long.toString(pid));
        if (limit == null) {
            return "?";
        }
        return limit[0].equals(limit[1]) ? limit[0] : limit[0] + " (hard " + limit[1] + ")";
    }

    private static Map<String, Object> stepJson(Step s) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("sessions", s.sessions());
        j.put("serverCpuPercentOfOneCore", s.serverCpu());
        j.put("clientCpuPercentOfOneCore", s.clientCpu());
        j.put("machineBusyPercent", s.machineBusy());
        j.put("serverRssKb", s.serverRssKb());
        j.put("serverHeapUsed", s.serverHeap());
        j.put("outages", s.outages());
        j.put("connected", s.connected());
        j.put("serverSessions", s.serverSessions());
        j.put("problem", s.problem());
        return j;
    }
}
