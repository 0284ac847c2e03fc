// Writes the fuzzers' seed corpora from the golden vectors (docs/vectors), so no binary blob is
// committed and the seeds follow the protocol when the vectors change.
//   make_seeds <vectors dir> <out dir>
// makes <out>/signal_frame_fuzz (every signaling frame, valid and invalid, alone and all valid
// ones coalesced; the first byte of a seed picks the read split), <out>/media_datagram_fuzz (the
// media vectors) and <out>/presence_fuzz (a few join / outage / reconcile scripts).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;

std::string trim(const std::string& s) {
    const auto begin = s.find_first_not_of(" \t\r");
    const auto end = s.find_last_not_of(" \t\r");
    return begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
}

bool from_hex(const std::string& hex, Bytes& out) {
    if (hex.size() % 2 != 0) {
        return false;
    }
    for (size_t i = 0; i < hex.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return true;
}

struct Vector {
    std::string name;
    Bytes bytes;
};

// Lines are "name | fields | hex" (protocol.txt) or "name | hex" (invalid.txt): hex is the last.
std::vector<Vector> read_vectors(const fs::path& file) {
    std::ifstream in(file);
    if (!in) {
        throw std::runtime_error("cannot read " + file.string());
    }
    std::vector<Vector> vectors;
    std::string line;
    while (std::getline(in, line)) {
        if (trim(line).empty() || trim(line)[0] == '#') {
            continue;
        }
        const auto first = line.find('|');
        const auto last = line.rfind('|');
        Vector v{trim(line.substr(0, first)), {}};
        if (first == std::string::npos || !from_hex(trim(line.substr(last + 1)), v.bytes)) {
            throw std::runtime_error("bad vector line in " + file.string() + ": " + line);
        }
        vectors.push_back(std::move(v));
    }
    return vectors;
}

void write(const fs::path& dir, const std::string& name, const Bytes& bytes) {
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        throw std::runtime_error("cannot write " + (dir / name).string());
    }
}

Bytes with_split(uint8_t split, const Bytes& stream) {
    Bytes seed{split};
    seed.insert(seed.end(), stream.begin(), stream.end());
    return seed;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: make_seeds <vectors dir> <out dir>\n";
        return 2;
    }
    try {
        const fs::path vectors(argv[1]);
        const fs::path out(argv[2]);
        const fs::path signal = out / "signal_frame_fuzz";
        const fs::path media = out / "media_datagram_fuzz";
        Bytes all_frames;
        for (const Vector& v : read_vectors(vectors / "protocol.txt")) {
            if (v.name.rfind("media_", 0) == 0) {
                write(media, v.name, v.bytes);
            } else {
                write(signal, v.name, with_split(0, v.bytes));
                all_frames.insert(all_frames.end(), v.bytes.begin(), v.bytes.end());
            }
        }
        write(signal, "all_coalesced", with_split(0, all_frames));
        write(signal, "all_split", with_split(7, all_frames));
        for (const Vector& v : read_vectors(vectors / "invalid.txt")) {
            write(signal, "invalid_" + v.name, with_split(3, v.bytes));
        }
        // Presence steps are (op, uid | reason << 4): 0 join, 1 leave, 2 outage, 3 reconcile, 5 clear.
        const fs::path presence = out / "presence_fuzz";
        write(presence, "join_leave", {0, 1, 0, 2, 0, 1, 1, 0x41, 1, 0x43});
        write(presence, "outage_reconcile", {0, 1, 0, 2, 2, 0, 0, 2, 0, 3, 1, 3, 0, 4, 3, 0});
        write(presence, "fresh_join", {0, 1, 5, 0, 0, 1, 2, 0, 3, 0});
    } catch (const std::exception& e) {
        std::cerr << "make_seeds: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
