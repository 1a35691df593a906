// The target program of MadvPS's tests, demo and benchmarks: a process with known memory.
//
// It maps its regions after it starts (so it owns every page: nothing is shared with a parent
// through fork, and PageOut and Cold may reclaim them), fills them with a pattern, prints one
// line per region and "ready", then answers commands on standard input:
// Regions (options): --anon-mib, --file-mib (private file mapping), --shared-file-mib, --memfd-mib,
// --locked-mib (three mappings, the middle one mlocked), --huge-mib (2 MiB aligned), --mappings N
// (N VMAs), --reserve-mib (mapped, never touched).
//   checksum [REGION]     a 64-bit FNV-1a hash of a region (or of all), read through the mapping
//   resident REGION       bytes of the region resident in RAM (mincore)
//   touch REGION          reads every page of the region again
//   touch-loop REGION MS  keeps reading the region every MS milliseconds, in the background
//   stop-loop             stops touch-loop
//   unmap REGION          unmaps the region (to make a hole)
//   exit                  exits
// Each answer is one line. Region lines are "region NAME 0xSTART LENGTH".
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace MadvPS.Target;

internal static unsafe partial class Program
{
    private const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    private const int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
    private const int O_RDWR = 2;

    private static readonly Dictionary<string, (IntPtr Address, long Length)> s_regions = new();
    private static readonly List<string> s_order = new();
    private static volatile bool s_touching;
    private static long s_pageSize;

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial IntPtr mmap(IntPtr addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int munmap(IntPtr addr, nuint length);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int mprotect(IntPtr addr, nuint length, int prot);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int mlock(IntPtr addr, nuint length);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int mincore(IntPtr addr, nuint length, byte* vec);

    [LibraryImport("libc.so.6", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc.so.6", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int ftruncate(int fd, long length);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int close(int fd);

    private static int Main(string[] args)
    {
        s_pageSize = Environment.SystemPageSize;
        var options = Options.Parse(args);
        string directory = options.Directory ?? Path.GetTempPath();

        if (options.AnonMiB > 0) AddAnonymous("anon", options.AnonMiB << 20);
        if (options.FileMiB > 0) AddFile("file", Path.Combine(directory, $"madvps-target-{Environment.ProcessId}.data"), options.FileMiB << 20, shared: false);
        if (options.SharedFileMiB > 0) AddFile("sharedfile", Path.Combine(directory, $"madvps-target-{Environment.ProcessId}.shared"), options.SharedFileMiB << 20, shared: true);
        if (options.MemfdMiB > 0) AddMemfd("memfd", options.MemfdMiB << 20);
        if (options.LockedMiB > 0) AddLocked(options.LockedMiB << 20);
        if (options.HugeMiB > 0) AddHugeAligned("huge", options.HugeMiB << 20);
        if (options.Mappings > 0) AddManyMappings("many", options.Mappings);
        if (options.ReserveMiB > 0) Add("reserve", Map(options.ReserveMiB << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1), options.ReserveMiB << 20);

        foreach (string name in s_order)
        {
            (IntPtr address, long length) = s_regions[name];
            Console.WriteLine($"region {name} 0x{(ulong)address:x} {length}");
        }

        Console.WriteLine("ready");
        Console.Out.Flush();

        string? line;
        while ((line = Console.ReadLine()) is not null)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            try
            {
                switch (words[0])
                {
                    case "checksum":
                        Console.WriteLine($"checksum {Checksum(words.Length > 1 ? new[] { words[1] } : s_order.ToArray()):x16}");
                        break;
                    case "resident":
                        Console.WriteLine($"resident {Resident(words[1])}");
                        break;
                    case "touch":
                        Touch(words[1]);
                        Console.WriteLine("touched");
                        break;
                    case "touch-loop":
                        StartTouchLoop(words[1], int.Parse(words[2], CultureInfo.InvariantCulture));
                        Console.WriteLine("looping");
                        break;
                    case "stop-loop":
                        s_touching = false;
                        Console.WriteLine("stopped");
                        break;
                    case "unmap":
                        (IntPtr address, long length) = s_regions[words[1]];
                        munmap(address, (nuint)length);
                        s_regions.Remove(words[1]);
                        Console.WriteLine("unmapped");
                        break;
                    case "map-file-hex": Console.WriteLine(MapFileHex(words[1])); break;
                    case "exit":
                        Cleanup(options, directory);
                        return 0;
                    default:
                        Console.WriteLine($"error unknown command {words[0]}");
                        break;
                }
            }
            catch (Exception e)
            {
                Console.WriteLine($"error {e.Message}");
            }

            Console.Out.Flush();
        }

        Cleanup(options, directory);
        return 0;
    }

    private static void Cleanup(Options options, string directory)
    {
        s_touching = false;
        foreach (string suffix in new[] { "data", "shared" })
        {
            try { File.Delete(Path.Combine(directory, $"madvps-target-{Environment.ProcessId}.{suffix}")); }
            catch (IOException) { }
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "open", SetLastError = true)]
    private static partial int open_bytes(byte* path, int flags, int mode);

    // map-file-hex HEX: maps the file whose path is these bytes (any byte but NUL; a name need not
    // be UTF-8) shared and read-only, reads its first page, answers "mapped 0xSTART LENGTH".
    private static string MapFileHex(string hex)
    {
        byte[] path = Convert.FromHexString(hex + "00");
        int fd;
        fixed (byte* p = path) { fd = open_bytes(p, 0, 0); }
        if (fd < 0) throw new InvalidOperationException($"open failed: errno {Marshal.GetLastPInvokeError()}");
        const long length = 4096; // the tests write files of one page
        IntPtr address = Map(length, 1, 1, fd);
        close(fd);
        _ = *(byte*)address;
        return $"mapped 0x{address:x} {length}";
    }

    private static IntPtr Map(long length, int prot, int flags, int fd)
    {
        IntPtr address = mmap(IntPtr.Zero, (nuint)length, prot, flags, fd, 0);
        if (address == new IntPtr(-1))
        {
            throw new InvalidOperationException($"mmap failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return address;
    }

    private static void Fill(IntPtr address, long length, ulong seed)
    {
        ulong* words = (ulong*)address;
        long count = length / 8;
        for (long i = 0; i < count; i++)
        {
            words[i] = (ulong)i * 0x9E3779B97F4A7C15UL ^ seed;
        }
    }

    private static void Add(string name, IntPtr address, long length)
    {
        s_regions[name] = (address, length);
        s_order.Add(name);
    }

    private static void AddAnonymous(string name, long length)
    {
        IntPtr address = Map(length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        Fill(address, length, 1);
        Add(name, address, length);
    }

    private static void AddFile(string name, string path, long length, bool shared)
    {
        var pattern = new byte[1 << 20];
        fixed (byte* p = pattern)
        {
            Fill((IntPtr)p, pattern.Length, 2);
        }

        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write))
        {
            for (long written = 0; written < length; written += pattern.Length)
            {
                file.Write(pattern, 0, (int)Math.Min(pattern.Length, length - written));
            }

            file.Flush(flushToDisk: true);
        }

        int fd = open(path, O_RDWR, 0);
        IntPtr address = Map(length, shared ? PROT_READ | PROT_WRITE : PROT_READ, shared ? MAP_SHARED : MAP_PRIVATE, fd);
        close(fd);
        Touch(address, length);
        Add(name, address, length);
    }

    private static void AddMemfd(string name, long length)
    {
        int fd = memfd_create("madvps-target", 0);
        ftruncate(fd, length);
        IntPtr address = Map(length, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
        close(fd);
        Fill(address, length, 3);
        Add(name, address, length);
    }

    // Three anonymous mappings in a row, the middle one locked: "lockedbefore", "locked", "lockedafter".
    private static void AddLocked(long length)
    {
        long total = length * 3;
        IntPtr address = Map(total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        Fill(address, total, 4);
        // Differing protections keep the three from merging into one VMA.
        mprotect(address, (nuint)length, PROT_READ);
        mprotect(address + (nint)(2 * length), (nuint)length, PROT_READ);
        if (mlock(address + (nint)length, (nuint)length) != 0)
        {
            throw new InvalidOperationException($"mlock failed: errno {Marshal.GetLastPInvokeError()}");
        }

        Add("lockedbefore", address, length);
        Add("locked", address + (nint)length, length);
        Add("lockedafter", address + (nint)(2 * length), length);
    }

    // An anonymous region that starts on a 2 MiB boundary, for Collapse.
    private static void AddHugeAligned(string name, long length)
    {
        const long huge = 2 << 20;
        IntPtr reserve = Map(length + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        long aligned = ((long)reserve + huge - 1) & ~(huge - 1);
        // Trim the reservation so that the mapping is exactly the aligned region.
        if (aligned > (long)reserve) munmap(reserve, (nuint)(aligned - (long)reserve));
        long tail = (long)reserve + length + huge - (aligned + length);
        if (tail > 0) munmap((IntPtr)(aligned + length), (nuint)tail);
        Fill((IntPtr)aligned, length, 5);
        Add(name, (IntPtr)aligned, length);
    }

    // COUNT mappings: one reservation whose pages alternate between readable-writable and
    // inaccessible, so that no two neighbours merge.
    private static void AddManyMappings(string name, int count)
    {
        long length = count * s_pageSize;
        IntPtr address = Map(length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        for (long page = 0; page < count; page += 2)
        {
            IntPtr at = address + (nint)(page * s_pageSize);
            mprotect(at, (nuint)s_pageSize, PROT_READ | PROT_WRITE);
            *(long*)at = page;
        }

        Add(name, address, length);
    }

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
        Touch(address, length);
    }

    private static long s_sink;

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
        s_touching = true;
        var thread = new Thread(() =>
        {
            while (s_touching)
            {
                Touch(address, length);
                Thread.Sleep(milliseconds);
            }
        }) { IsBackground = true };
        thread.Start();
    }

    private sealed class Options
    {
        public long AnonMiB, FileMiB, SharedFileMiB, MemfdMiB, LockedMiB, HugeMiB, ReserveMiB;
        public int Mappings;
        public string? Directory;

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string value = i + 1 < args.Length ? args[i + 1] : "0";
                switch (args[i])
                {
                    case "--anon-mib": o.AnonMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--file-mib": o.FileMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--shared-file-mib": o.SharedFileMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--memfd-mib": o.MemfdMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--locked-mib": o.LockedMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--huge-mib": o.HugeMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--reserve-mib": o.ReserveMiB = long.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--mappings": o.Mappings = int.Parse(value, CultureInfo.InvariantCulture); i++; break;
                    case "--dir": o.Directory = value; i++; break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }
            }

            return o;
        }
    }
}
