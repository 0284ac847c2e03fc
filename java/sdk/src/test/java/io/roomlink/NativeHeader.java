package io.roomlink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The enums of native/include/roomlink/roomlink.h as the repository holds them, read as text. */
final class NativeHeader {
    private static final Pattern ENUM = Pattern.compile("enum\\s+(\\w+)\\s*\\{([^}]*)\\}");
    private static final Pattern CONSTANT = Pattern.compile("(RL_\\w+)\\s*=\\s*(-?\\d+)");

    private NativeHeader() {
    }

    /** The constants of {@code enum name}, in header order, with {@code prefix} cut from each name. */
    static Map<String, Integer> enumConstants(String name, String prefix) {
        Matcher block = ENUM.matcher(text());
        while (block.find()) {
            if (!block.group(1).equals(name)) {
                continue;
            }
            Map<String, Integer> constants = new LinkedHashMap<>();
            Matcher constant = CONSTANT.matcher(block.group(2));
            while (constant.find()) {
                String constantName = constant.group(1);
                if (!constantName.startsWith(prefix)) {
                    throw new AssertionError(constantName + " in enum " + name + " lacks the prefix " + prefix);
                }
                constants.put(constantName.substring(prefix.length()), Integer.parseInt(constant.group(2)));
            }
            if (constants.isEmpty()) {
                throw new AssertionError("enum " + name + " in roomlink.h has no constants");
            }
            return constants;
        }
        throw new AssertionError("enum " + name + " not found in roomlink.h");
    }

    private static String text() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (; dir != null; dir = dir.getParent()) {
            Path header = dir.resolve("native/include/roomlink/roomlink.h");
            if (Files.isRegularFile(header)) {
                try {
                    return Files.readString(header);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        throw new AssertionError("native/include/roomlink/roomlink.h not found above " + System.getProperty("user.dir"));
    }
}
