package io.roomlink.testkit;

import io.roomlink.testkit.FaultProxy.Path;
import java.util.function.UnaryOperator;

/** Every fault the proxy applies, as one immutable value. */
record Faults(PathFaults signal, PathFaults media, double duplicate, double reorder) {

    static final Faults NONE = new Faults(PathFaults.NONE, PathFaults.NONE, 0, 0);

    /** Applies {@code change} to the path(s) that {@code path} names. */
    Faults with(Path path, UnaryOperator<PathFaults> change) {
        PathFaults s = path == Path.MEDIA ? signal : change.apply(signal);
        PathFaults m = path == Path.SIGNAL ? media : change.apply(media);
        return new Faults(s, m, duplicate, reorder);
    }

    Faults withDuplicate(double fraction) {
        return new Faults(signal, media, fraction, reorder);
    }

    Faults withReorder(double fraction) {
        return new Faults(signal, media, duplicate, fraction);
    }
}
