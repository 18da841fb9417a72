// fuzz_input.h — hands a fuzzer's bytes to the path-based loaders as an in-memory file (memfd), so the
// real code paths (open, gzread, stat) run without touching the disk.
#ifndef BNLAB_FUZZ_INPUT_H
#define BNLAB_FUZZ_INPUT_H

// memfd_create needs _GNU_SOURCE, set for the fuzz targets in meson.build.
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

// Writes data to a fresh memfd and puts "/proc/self/fd/N" into path; returns the fd (close it after use).
static int fuzz_file(const uint8_t *data, size_t size, char *path, size_t cap) {
    int fd = memfd_create("bnlab-fuzz", 0);
    if (fd < 0) return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) break;
        done += (size_t)w;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
