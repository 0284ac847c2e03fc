package io.roomlink.bench.scenario;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/** Every scenario of the suite by id, in the order a run takes them: the one list BenchMain and its test use. */
public final class Scenarios {
    private static final Map<String, Supplier<Scenario>> ALL = all();

    private Scenarios() {
    }

    /** The ids in running order. */
    public static Set<String> ids() {
        return Collections.unmodifiableSet(ALL.keySet());
    }

    /** A fresh instance of the scenario {@code id}, one of {@link #ids()}. */
    public static Scenario create(String id) {
        Supplier<Scenario> factory = ALL.get(id);
        if (factory == null) {
            throw new IllegalArgumentException("unknown scenario " + id + "; ids: " + String.join(" ", ids()));
        }
        return factory.get();
    }

    private static Map<String, Supplier<Scenario>> all() {
        Map<String, Supplier<Scenario>> scenarios = new LinkedHashMap<>();
        scenarios.put("callback", CallbackLatency::new);
        scenarios.put("join", JoinLatency::new);
        scenarios.put("tls", TlsCost::new);
        scenarios.put("detection", Detection::new);
        scenarios.put("recovery", Recovery::new);
        scenarios.put("link-down", LinkDown::new);
        scenarios.put("kernel-drop", KernelDrop::new);
        scenarios.put("jmh", Micro::new);
        scenarios.put("footprint", ClientFootprint::new);
        scenarios.put("throughput", JoinThroughput::new);
        scenarios.put("capacity", Capacity::new);
        scenarios.put("storm", Storm::new);
        scenarios.put("false-outages", FalseOutages::new);
        scenarios.put("hijack", Hijack::new);
        scenarios.put("fd-flood", FdFlood::new);
        scenarios.put("pingers", NonReadingPingers::new);
        scenarios.put("bind-flood", BindFlood::new);
        scenarios.put("hostile-server", HostileServerVsSdk::new);
        scenarios.put("message-latency", MessageLatency::new);
        scenarios.put("message-cut", MessageCut::new);
        scenarios.put("message-fanout", MessageFanout::new);
        scenarios.put("message-replay", MessageReplay::new);
        return scenarios;
    }
}
