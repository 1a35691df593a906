using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;

namespace MadvPS.Target;

// Reading the regions: checksums, residency, touches and the touch loops.
internal static unsafe partial class Program
{
    private static ulong Checksum(string[] names)
    {
        ulong hash = 0xcbf29ce484222325UL;
        foreach (string name in names)
        {
            if (name is "many" or "reserve") continue;
            (IntPtr address, long length) = s_regions[name];
            ulong* words = (ulong*)address;
            for (long i = 0; i < length / 8; i++)
            {
                hash = (hash ^ words[i]) * 0x100000001b3UL;
            }
        }

        return hash;
    }

    private static long Resident(string name)
    {
        (IntPtr address, long length) = s_regions[name];
        long pages = length / s_pageSize;
        var vector = new byte[pages];
        fixed (byte* v = vector)
        {
            if (mincore(address, (nuint)length, v) != 0)
            {
                throw new InvalidOperationException($"mincore failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        long resident = 0;
        foreach (byte b in vector)
        {
            if ((b & 1) != 0) resident++;
        }

        return resident * s_pageSize;
    }

    private static void Touch(string name)
    {
        (IntPtr address, long length) = s_regions[name];
        FlushTlb(name, address, length);
        Touch(address, length);
    }

    private static readonly Dictionary<string, int> s_protections = new()
    {
        ["file"] = PROT_READ,
        ["lockedbefore"] = PROT_READ,
        ["lockedafter"] = PROT_READ,
        ["many"] = -1,
        ["filemany"] = -1,
        ["reserve"] = -1,
    };

    // clear_refs clears the accessed bits but flushes no TLB (fs/proc/task_mmu.c, clear_refs_write),
    // so a read through a translation a CPU still caches would leave its page "unreferenced".
    // mprotect to PROT_NONE and back rewrites the entries (keeping their accessed bits) and flushes.
    private static void FlushTlb(string name, IntPtr address, long length)
    {
        int prot = s_protections.TryGetValue(name, out int p) ? p : PROT_READ | PROT_WRITE;
        // Never while touch-loop reads the region from its thread: it would fault on PROT_NONE.
        if (prot < 0 || (s_touching && s_loopRegion == name)) return;
        if (mprotect(address, (nuint)length, PROT_NONE) != 0 || mprotect(address, (nuint)length, prot) != 0)
        {
            throw new InvalidOperationException($"mprotect failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private static long s_sink;

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int madvise(IntPtr addr, nuint length, int advice);

    // MADV_NOHUGEPAGE first, so that a write faults in one page and not a 2 MiB folio (THP "always").
    private static long TouchEvery(string name, long every)
    {
        const int MADV_NOHUGEPAGE = 15;
        (IntPtr address, long length) = s_regions[name];
        if (madvise(address, (nuint)length, MADV_NOHUGEPAGE) != 0)
        {
            throw new InvalidOperationException($"madvise(NOHUGEPAGE) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        long touched = 0;
        for (long offset = 0; offset < length; offset += every * s_pageSize, touched++)
        {
            ((byte*)address)[offset] = 1;
        }

        return touched;
    }

    private static void Touch(IntPtr address, long length)
    {
        long sum = 0;
        for (long offset = 0; offset < length; offset += s_pageSize)
        {
            sum += *(byte*)(address + (nint)offset);
        }

        Interlocked.Add(ref s_sink, sum);
    }

    private static void StartTouchLoop(string name, int milliseconds)
    {
        (IntPtr address, long length) = s_regions[name];
        s_loopRegion = name;
        s_touching = true;
        var thread = new Thread(() =>
        {
            while (s_touching)
            {
                Touch(address, length);
                Thread.Sleep(milliseconds);
            }
        })
        { IsBackground = true };
        thread.Start();
    }

    // touch-loop over a part of a region: "touch-loop-part REGION FROM TO MS" (byte offsets).
    private static void StartTouchLoopPart(string[] words)
    {
        (IntPtr address, long length) = s_regions[words[1]];
        long from = long.Parse(words[2], CultureInfo.InvariantCulture);
        long to = Math.Min(length, long.Parse(words[3], CultureInfo.InvariantCulture));
        int milliseconds = int.Parse(words[4], CultureInfo.InvariantCulture);
        s_touching = true;
        var thread = new Thread(() =>
        {
            while (s_touching)
            {
                Touch(address + (nint)from, to - from);
                Thread.Sleep(milliseconds);
            }
        })
        { IsBackground = true };
        thread.Start();
        Console.WriteLine("looping");
    }

    private static readonly object s_statsLock = new();
    private static long s_passes, s_passTicks, s_maxPassTicks;

    // touch-loop with the time of each pass kept: "touch-loop-timed REGION MS".
    private static void StartTimedTouchLoop(string[] words)
    {
        (IntPtr address, long length) = s_regions[words[1]];
        int milliseconds = int.Parse(words[2], CultureInfo.InvariantCulture);
        s_touching = true;
        var thread = new Thread(() =>
        {
            while (s_touching)
            {
                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                Touch(address, length);
                long ticks = System.Diagnostics.Stopwatch.GetTimestamp() - start;
                lock (s_statsLock)
                {
                    s_passes++;
                    s_passTicks += ticks;
                    s_maxPassTicks = Math.Max(s_maxPassTicks, ticks);
                }

                Thread.Sleep(milliseconds);
            }
        })
        { IsBackground = true };
        thread.Start();
        Console.WriteLine("looping");
    }

    private static string TakeLoopStats()
    {
        lock (s_statsLock)
        {
            double us = 1e6 / System.Diagnostics.Stopwatch.Frequency;
            string line = string.Create(CultureInfo.InvariantCulture,
                $"stats {s_passes} {(s_passes > 0 ? s_passTicks * us / s_passes : 0):0.0} {s_maxPassTicks * us:0.0}");
            s_passes = s_passTicks = s_maxPassTicks = 0;
            return line;
        }
    }
}
