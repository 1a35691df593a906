using System;
using System.IO;
using System.Runtime.InteropServices;

namespace MadvPS.Target;

// The regions the target maps at start, and the file it maps on request.
internal static unsafe partial class Program
{
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

        s_files.Add(path);
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
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

    // COUNT one-page mappings of one file of COUNT pages, private and read-only, in one
    // reservation: page i maps the file's page COUNT-1-i, so that no two neighbours' offsets follow
    // on and none merge. Every page is read in (file pages PageOut can take without swap).
    private static void AddManyFileMappings(string name, string path, int count)
    {
        long length = count * s_pageSize;
        AddFile(name + "-whole", path, length, shared: false);
        int fd = open(path, O_RDWR, 0);
        IntPtr address = Map(length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        for (long page = 0; page < count; page++)
        {
            IntPtr at = address + (nint)(page * s_pageSize);
            if (mmap(at, (nuint)s_pageSize, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, (count - 1 - page) * s_pageSize) != at)
            {
                throw new InvalidOperationException($"mmap MAP_FIXED failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        close(fd);
        (IntPtr whole, long _) = s_regions[name + "-whole"];
        munmap(whole, (nuint)length);
        s_regions.Remove(name + "-whole");
        s_order.Remove(name + "-whole");
        Touch(address, length);
        Add(name, address, length);
    }
}
