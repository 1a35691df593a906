namespace MadvPS;

/// <summary>What Invoke-FileAdvice did to one file: the advice, the range, and the page cache of that range before and after.</summary>
public sealed class FileAdviceResult
{
    public string Path { get; set; } = "";
    public FileAdvice Advice { get; set; }
    /// <summary>The first byte of the advised range.</summary>
    public long Offset { get; set; }
    /// <summary>The bytes from Offset to the end of the range (to the end of the file when -Length was 0).</summary>
    public long Length { get; set; }
    public long Size { get; set; }
    /// <summary>Bytes of the range in the page cache before the advice.</summary>
    public long CachedBefore { get; set; }
    /// <summary>Bytes of the range in the page cache right after the advice.</summary>
    public long CachedAfter { get; set; }
    /// <summary>Dirty bytes of the range before; null when mincore measured.</summary>
    public long? DirtyBefore { get; set; }
    public long? DirtyAfter { get; set; }
    public long? WritebackAfter { get; set; }
    /// <summary>Whether -Flush wrote the file's dirty pages (fdatasync) before the advice.</summary>
    public bool Flushed { get; set; }
    /// <summary>posix_fadvise calls made (WillNeed goes in readahead-sized steps).</summary>
    public int Calls { get; set; }
    public CacheSource Source { get; set; }
    /// <summary>What the kernel did not do, and why (dirty or mapped pages kept, advice that lasts only while a descriptor is open).</summary>
    public string Note { get; set; } = "";

    public override string ToString() => $"{Path} {Advice}";
}
