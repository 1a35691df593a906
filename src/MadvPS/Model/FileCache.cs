namespace MadvPS;

/// <summary>
/// The page cache one file holds, as Get-FileCache measured it. Sizes in bytes. Flat, so it survives
/// remoting and CSV; Path binds to Invoke-FileAdvice by property name.
/// </summary>
public sealed class FileCache
{
    public string Path { get; set; } = "";
    /// <summary>The file's size (st_size).</summary>
    public long Size { get; set; }
    /// <summary>Bytes of the file in the page cache (whole pages).</summary>
    public long Cached { get; set; }
    /// <summary>Cached as a share of the file's size rounded up to whole pages, 0 to 100.</summary>
    public double CachedPercent { get; set; }
    /// <summary>Cached bytes written to but not yet written back; null when mincore measured.</summary>
    public long? Dirty { get; set; }
    /// <summary>Cached bytes being written back now; null when mincore measured.</summary>
    public long? Writeback { get; set; }
    /// <summary>Bytes of the file evicted from the cache that the kernel still remembers (shadow entries); null when mincore measured.</summary>
    public long? Evicted { get; set; }
    /// <summary>Evicted bytes that would still have fitted in memory: their eviction was recent (workingset refault distance); null when mincore measured.</summary>
    public long? RecentlyEvicted { get; set; }
    public CacheSource Source { get; set; }
    /// <summary>major:minor in hex, as /proc/PID/maps prints it, so it joins with MemoryMapping.Device.</summary>
    public string Device { get; set; } = "";
    public ulong Inode { get; set; }

    public override string ToString() => Path;
}
