namespace MadvPS;

/// <summary>Which system call measured a file's page cache.</summary>
public enum CacheSource
{
    /// <summary>cachestat(2), Linux 6.5: cached, dirty, writeback and eviction counts.</summary>
    Cachestat,
    /// <summary>mincore(2) on a read-only mapping of the file: cached pages only.</summary>
    Mincore,
}
