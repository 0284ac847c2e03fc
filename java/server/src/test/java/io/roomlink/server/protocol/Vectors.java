package io.roomlink.server.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reader of docs/vectors/*.txt (copied to the test classpath under vectors/). */
public final class Vectors {
    /** One line: {@code name | field=value;… | hex} (invalid.txt has no fields). */
    public record Vector(String name, Map<String, String> fields, byte[] bytes, int line) {
        public String hex() {
            return HexFormat.of().formatHex(bytes);
        }

        public String get(String field) {
            String v = fields.get(field);
            if (v == null) {
                throw new IllegalArgumentException(name + ": no field " + field);
            }
            return v;
        }

        @Override
        public String toString() {
            return name + " (line " + line + ")";
        }
    }

    private Vectors() {
    }

    public static List<Vector> load(String resource) throws IOException {
        List<Vector> out = new ArrayList<>();
        try (InputStream in = Vectors.class.getClassLoader().getResourceAsStream("vectors/" + resource)) {
            if (in == null) {
                throw new IOException("vectors/" + resource + " not on the test classpath");
            }
            String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i].strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split("\\|", -1);
                Map<String, String> fields = new LinkedHashMap<>();
                String hex;
                if (parts.length == 3) {
                    String f = parts[1].strip();
                    if (!f.isEmpty()) {
                        for (String kv : f.split(";")) {
                            int eq = kv.indexOf('=');
                            fields.put(kv.substring(0, eq).strip(), kv.substring(eq + 1));
                        }
                    }
                    hex = parts[2].strip();
                } else if (parts.length == 2) {
                    hex = parts[1].strip();
                } else {
                    throw new IOException(resource + ":" + (i + 1) + ": cannot parse '" + line + "'");
                }
                out.add(new Vector(parts[0].strip(), fields, HexFormat.of().parseHex(hex), i + 1));
            }
        }
        if (out.isEmpty()) {
            throw new IOException("vectors/" + resource + " has no vectors");
        }
        return out;
    }
}
