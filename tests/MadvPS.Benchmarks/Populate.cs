using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;

namespace MadvPS.Benchmarks;

/// <summary>
/// The populate question: MADV_POPULATE_WRITE (Linux 5.14) over anonymous memory of this process,
/// by 1, 2 or 4 threads that each populate an equal part, with transparent huge pages allowed
/// (MADV_HUGEPAGE) or refused (MADV_NOHUGEPAGE) on the region alone, and the threads either all
/// created before any of them faults (QEMU's way) or created one after another while the first
/// already faults. Run as <c>MadvPS.Benchmarks populate GIB ROUNDS</c>; prints one line per run:
/// <c>threads thp start wall_ms cpu_ms anon_huge_kib warmup_wall_ms</c>, configurations interleaved per round.
/// </summary>
internal static partial class Populate
{
    private const int MadvHugePage = 14, MadvNoHugePage = 15, MadvPopulateWrite = 23;
    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 0x02, MapAnonymous = 0x20, MapNoReserve = 0x4000;
    private const long HugePage = 2 * 1024 * 1024;

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int munmap(nint address, nuint length);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int madvise(nint address, nuint length, int advice);

    public static void Run(string[] args)
    {
        long bytes = long.Parse(args.Length > 1 ? args[1] : "4", CultureInfo.InvariantCulture) * 1024 * 1024 * 1024;
        int rounds = int.Parse(args.Length > 2 ? args[2] : "5", CultureInfo.InvariantCulture);
        var configurations = new List<(int Threads, bool Thp, bool Before)>();
        foreach (bool thp in new[] { true, false })
        {
            configurations.Add((1, thp, true));
            foreach (int threads in new[] { 2, 4 })
            {
                configurations.Add((threads, thp, true));
                configurations.Add((threads, thp, false));
            }
        }

        // One warm-up round, not printed: the first mapping of the process pays for more than populating.
        for (int round = 0; round <= rounds; round++)
        {
            foreach ((int threads, bool thp, bool before) in configurations)
            {
                // An unmeasured run first: in a VM with free page reporting (virtio-balloon), memory
                // freed a while ago has been handed back to the host, and touching it again costs the
                // host's faults as well. The measured run right after gets the pages just freed.
                (double warm, _, _) = Once(bytes, threads, thp, before);
                (double wall, double cpu, long huge) = Once(bytes, threads, thp, before);
                if (round > 0)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{threads} {(thp ? "on" : "off")} {(before ? "before" : "during")} {wall:F1} {cpu:F1} {huge} {warm:F1}"));
                }
            }
        }
    }

    private static (double Wall, double Cpu, long AnonHugeKiB) Once(long bytes, int threads, bool thp, bool before)
    {
        // 2 MiB more, to align the start to a huge page (so every thread's part is whole huge pages).
        nint raw = mmap(0, (nuint)(bytes + HugePage), ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
        if (raw == -1)
        {
            throw new InvalidOperationException($"mmap failed: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            nint start = (nint)(((long)raw + HugePage - 1) & ~(HugePage - 1));
            Check(madvise(start, (nuint)bytes, thp ? MadvHugePage : MadvNoHugePage), "madvise HUGEPAGE/NOHUGEPAGE");
            long part = bytes / threads / HugePage * HugePage;
            using var go = new ManualResetEventSlim(false);
            var workers = new Thread[threads];
            Exception? failure = null;
            double cpu = References.ProcessCpuMilliseconds();
            var clock = new Stopwatch();

            void Work(int index)
            {
                if (before)
                {
                    go.Wait();
                }

                long length = index == threads - 1 ? bytes - part * index : part;
                if (madvise(start + (nint)(part * index), (nuint)length, MadvPopulateWrite) != 0)
                {
                    failure = new InvalidOperationException($"MADV_POPULATE_WRITE failed: errno {Marshal.GetLastPInvokeError()}");
                }
            }

            if (before)
            {
                // QEMU's way: every thread exists (stack mapped) before any fault.
                for (int i = 0; i < threads; i++)
                {
                    int index = i;
                    workers[i] = new Thread(() => Work(index), 256 * 1024);
                    workers[i].Start();
                }

                cpu = References.ProcessCpuMilliseconds();
                clock.Start();
                go.Set();
            }
            else
            {
                // Each thread starts faulting at once, while the next ones are still being created
                // (each creation maps a stack: mmap takes the mmap lock for writing).
                cpu = References.ProcessCpuMilliseconds();
                clock.Start();
                for (int i = 0; i < threads; i++)
                {
                    int index = i;
                    workers[i] = new Thread(() => Work(index), 256 * 1024);
                    workers[i].Start();
                }
            }

            foreach (Thread worker in workers)
            {
                worker.Join();
            }

            clock.Stop();
            cpu = References.ProcessCpuMilliseconds() - cpu;
            if (failure is not null)
            {
                throw failure;
            }

            return (clock.Elapsed.TotalMilliseconds, cpu, AnonHugeKiB());
        }
        finally
        {
            Check(munmap(raw, (nuint)(bytes + HugePage)), "munmap");
        }
    }

    private static long AnonHugeKiB()
    {
        foreach (string line in System.IO.File.ReadLines("/proc/self/smaps_rollup"))
        {
            if (line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(14).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"{what} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
