package io.roomlink.testkit;

import java.util.Objects;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each test a fresh {@link TestRoomServer} (and {@link FaultProxy}, if configured) and
 * closes it after the test.
 *
 * <pre>{@code
 * @RegisterExtension
 * static RoomServerExtension rooms = RoomServerExtension.withFaultProxy();
 *
 * @Test void survivesOutage() {
 *     ... connect to rooms.server().clientSignalPort() ...
 *     rooms.proxy().blackhole(Path.BOTH, Direction.BOTH);
 * }
 * }</pre>
 *
 * To cut one client's network while another is unaffected, give it a proxy of its own with
 * {@code rooms.server().newFaultProxy()}; it is closed with the server after the test.
 *
 * <p>Or, with the defaults (no proxy), {@code @ExtendWith(RoomServerExtension.class)} and a
 * {@link TestRoomServer} parameter. Test methods, {@code @BeforeEach} and {@code @AfterEach}
 * methods may take a {@link TestRoomServer} or, when the extension has a proxy, a {@link FaultProxy}
 * parameter. {@link #server()} and {@link #proxy()} refer to the test running now; with parallel
 * test execution use parameters instead. Register only one RoomServerExtension per test class:
 * two would compete to resolve the same parameters.
 */
public final class RoomServerExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(
            RoomServerExtension.class);
    private static final String KEY = "server";

    private final TestRoomServer.Builder settings;
    private volatile TestRoomServer current;

    /** A server without a proxy, with the {@link TestRoomServer} defaults; used by {@code @ExtendWith}. */
    public RoomServerExtension() {
        this(TestRoomServer.builder());
    }

    private RoomServerExtension(TestRoomServer.Builder settings) {
        this.settings = settings.copy();
    }

    /** Each test gets a server fronted by a default {@link FaultProxy} ({@link TestRoomServer#proxy()}). */
    public static RoomServerExtension withFaultProxy() {
        return new RoomServerExtension(TestRoomServer.builder().withFaultProxy());
    }

    /** Each test gets a server started with these settings (copied now: later changes to the builder don't count). */
    public static RoomServerExtension of(TestRoomServer.Builder settings) {
        return new RoomServerExtension(Objects.requireNonNull(settings, "settings"));
    }

    /** The current test's server. */
    public TestRoomServer server() {
        TestRoomServer s = current;
        if (s == null) {
            throw new IllegalStateException("no test is running: server() is available from @BeforeEach to @AfterEach");
        }
        return s;
    }

    /** The current test's default proxy; throws if the extension was made without one. */
    public FaultProxy proxy() {
        return server().proxy();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        current = serverFor(context);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        TestRoomServer s = context.getStore(NAMESPACE).remove(KEY, TestRoomServer.class);
        current = null;
        if (s != null) {
            s.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == TestRoomServer.class || (type == FaultProxy.class && settings.hasFaultProxy());
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        if (context.getTestMethod().isEmpty()) {
            throw new ParameterResolutionException(
                    "RoomServerExtension gives a server per test: inject it into test, @BeforeEach or @AfterEach methods");
        }
        TestRoomServer s = serverFor(context);
        return parameter.getParameter().getType() == FaultProxy.class ? s.proxy() : s;
    }

    private TestRoomServer serverFor(ExtensionContext context) {
        // The store closes what it holds when the test's context ends, should afterEach not run.
        return context.getStore(NAMESPACE).getOrComputeIfAbsent(KEY, k -> settings.start(), TestRoomServer.class);
    }
}
