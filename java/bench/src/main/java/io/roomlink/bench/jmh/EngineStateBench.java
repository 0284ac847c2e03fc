package io.roomlink.bench.jmh;

import io.roomlink.ConnectionState;
import io.roomlink.RoomEngine;
import io.roomlink.RoomEngineConfig;
import io.roomlink.RoomEngineListener;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One API call through JNA: {@link RoomEngine#getConnectionState()} takes the engine's read lock,
 * calls {@code rl_engine_get_state} (an atomic load in the core) and maps the code to the enum.
 * The engine is idle (DISCONNECTED): the call costs the same in every state.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class EngineStateBench {
    private RoomEngine engine;

    @Setup
    public void create() {
        engine = RoomEngine.create(RoomEngineConfig.builder().appKey("bench").server("127.0.0.1", 9).build(),
                new RoomEngineListener() { });
    }

    @TearDown
    public void close() {
        engine.close();
    }

    @Benchmark
    public ConnectionState getConnectionState() {
        return engine.getConnectionState();
    }
}
