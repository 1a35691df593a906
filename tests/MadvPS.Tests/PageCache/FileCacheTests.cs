using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using MadvPS.Commands;
using MadvPS.Core;
using MadvPS.Interop;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// The page cache core against the real kernel: files written and read under /var/tmp (a disk, not
/// tmpfs), measured with cachestat and with mincore, advised with posix_fadvise. Needs root (chown,
/// setfsuid), as CI has.
/// </summary>
[SupportedOSPlatform("linux")]
[Trait("Needs", "Root")]
[Trait("Needs", "Process")]
public sealed class FileCacheTests : IDisposable
{
    private const int MiB = 1024 * 1024;
    private static readonly long Page = Environment.SystemPageSize;
    private readonly string _folder = Path.Combine("/var/tmp", $"madvps-xunit-filecache-{Guid.NewGuid():N}");

    public FileCacheTests()
    {
        Directory.CreateDirectory(_folder);
        File.SetUnixFileMode(_folder, (UnixFileMode)0x1ED); // 0755: other users may enter
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void AFileReadIsCachedAndMincoreAgreesWithCachestat()
    {
        string path = Write("read", 8 * MiB, sync: true);
        ReadAll(path, 0, 8 * MiB);
        using CachedFile file = CachedFile.Open(path);
        CacheFigures cachestat = FileCacheMeter.Measure(file);
        CacheFigures mincore = FileCacheMeter.Measure(file, method: CacheMeasureMethod.Mincore);

        Assert.Equal(CacheSource.Cachestat, cachestat.Source);
        Assert.Equal(8 * MiB, cachestat.Cached);
        Assert.Equal(0, cachestat.Dirty);
        Assert.Equal(CacheSource.Mincore, mincore.Source);
        Assert.Equal(cachestat.Cached, mincore.Cached);
        Assert.Null(mincore.Dirty);
        Assert.Null(mincore.Writeback);
        Assert.Null(mincore.Evicted);
        Assert.Null(mincore.RecentlyEvicted);
    }

    [Fact]
    public void MincoreCountsOnlyTheCachedPartAndHonoursTheRange()
    {
        string path = Write("half", 4 * MiB, sync: true);
        using CachedFile file = CachedFile.Open(path);
        FileAdvisor.Advise(file, FileAdvice.DontNeed, 0, 0, flush: false);
        // Bytes 1 MiB to 3 MiB, without readahead: a read with readahead starts an asynchronous
        // read past its end, whose pages cachestat counts as soon as they are in the cache and
        // mincore only once they are read (uptodate), so the two differ while it runs.
        ReadAll(path, MiB, 2 * MiB, readahead: false);
        CacheFigures cachestat = FileCacheMeter.Measure(file);
        CacheFigures mincore = FileCacheMeter.Measure(file, method: CacheMeasureMethod.Mincore);
        Assert.Equal(2 * MiB, cachestat.Cached);
        Assert.Equal(cachestat.Cached, mincore.Cached);

        // Ranges: the first MiB was never read; the second was.
        Assert.Equal(0, FileCacheMeter.Measure(file, 0, MiB, CacheMeasureMethod.Mincore).Cached);
        Assert.Equal(MiB, FileCacheMeter.Measure(file, MiB, MiB, CacheMeasureMethod.Mincore).Cached);
        Assert.Equal(MiB, FileCacheMeter.Measure(file, MiB, MiB).Cached);
    }

    [Fact]
    public void DontNeedDropsACleanFileAndWillNeedReadsAllOfItBackInReadaheadSteps()
    {
        const int size = 32 * MiB;
        string path = Write("advise", size, sync: true);
        ReadAll(path, 0, size);
        using CachedFile file = CachedFile.Open(path);

        FileAdviceOutcome drop = FileAdvisor.Advise(file, FileAdvice.DontNeed, 0, 0, flush: false);
        Assert.Equal(size, drop.Before.Cached);
        Assert.InRange(drop.After.Cached, 0, 64 * 1024);
        Assert.Equal(1, drop.Calls);

        FileAdviceOutcome load = FileAdvisor.Advise(file, FileAdvice.WillNeed, 0, 0, flush: false);
        long window = FileCacheFacts.ReadaheadWindowBytes(file.DeviceMajor, file.DeviceMinor);
        Assert.Equal((int)((size + window - 1) / window), load.Calls);
        Assert.Equal(size, load.After.Cached);
        Assert.Equal((0L, (long)size), (load.Offset, load.Length));
        Assert.Empty(load.Notes);
    }

    [Fact]
    public void DontNeedKeepsDirtyPagesAndSaysSoUnlessFlushed()
    {
        const int size = 8 * MiB;
        string path = Write("dirty", size, sync: false);
        using CachedFile file = CachedFile.Open(path);
        CacheFigures before = FileCacheMeter.Measure(file);
        Assert.True(before.Dirty > size / 2, $"the file just written should be mostly dirty, was {before.Dirty}");

        FileAdviceOutcome kept = FileAdvisor.Advise(file, FileAdvice.DontNeed, 0, 0, flush: false);
        Assert.True(kept.After.Cached > size / 2, $"dirty pages under writeback stay cached; {kept.After.Cached} did");
        Assert.Contains(kept.Notes, n => n.Kind == FileNoteKind.DirtyKept);
        Assert.Contains("were dirty", FailureText.FileNotes(FileAdvice.DontNeed, kept.Notes));
        Assert.Contains("-Flush", FailureText.FileNotes(FileAdvice.DontNeed, kept.Notes));

        Write("dirty", size, sync: false);
        FileAdviceOutcome flushed = FileAdvisor.Advise(file, FileAdvice.DontNeed, 0, 0, flush: true);
        Assert.True(flushed.Flushed);
        Assert.InRange(flushed.After.Cached, 0, 64 * 1024);
        Assert.DoesNotContain(flushed.Notes, n => n.Kind == FileNoteKind.DirtyKept);
        Assert.DoesNotContain("dirty", FailureText.FileNotes(FileAdvice.DontNeed, flushed.Notes));
    }

    [Fact]
    public void PerOpenFileAdviceIsGivenButSaysItDoesNotLast()
    {
        string path = Write("seq", MiB, sync: true);
        using CachedFile file = CachedFile.Open(path);
        foreach (FileAdvice advice in new[] { FileAdvice.Sequential, FileAdvice.Random, FileAdvice.NoReuse, FileAdvice.Normal })
        {
            FileAdviceOutcome outcome = FileAdvisor.Advise(file, advice, 0, 0, flush: false);
            Assert.Contains("no reader is affected", FailureText.FileNotes(advice, outcome.Notes));
        }
    }

    [Fact]
    public void SpecialFilesDirectoriesAndMissingFilesAreRefusedWithoutOpening()
    {
        Assert.Equal(FileCacheFailure.NotRegularFile, Assert.Throws<FileCacheException>(() => CachedFile.Open("/dev/null")).Failure);
        Assert.Equal(FileCacheFailure.IsDirectory, Assert.Throws<FileCacheException>(() => CachedFile.Open(_folder)).Failure);
        Assert.Equal(FileCacheFailure.NotFound, Assert.Throws<FileCacheException>(() => CachedFile.Open(Path.Combine(_folder, "missing"))).Failure);
        Assert.Equal(FileCacheFailure.NotFound, Assert.Throws<FileCacheException>(() => CachedFile.Open(Path.Combine(_folder, "missing", "below"))).Failure);

        // Opening a FIFO for reading would block until a writer comes: it must be refused unopened.
        string fifo = Path.Combine(_folder, "fifo");
        Assert.Equal(0, mkfifo(fifo, 0x1A4));
        FileCacheException e = Assert.Throws<FileCacheException>(() => CachedFile.Open(fifo));
        Assert.Equal(FileCacheFailure.NotRegularFile, e.Failure);
        Assert.Equal(FileType.Fifo, e.FileTypeBits);
        Assert.Contains($"'{fifo}' is a FIFO, not a regular file", FailureText.Of(e));
    }

    [Fact]
    public void AsAnotherUserTheHiddenPageCacheIsAnErrorNeverAMincoreLie()
    {
        Assert.True(Libc.CurrentFsuid == 0, "this test runs as root, as CI does");
        const uint nobody = 65534;
        string rootOwned = Write("root-644", MiB, sync: true);
        File.SetUnixFileMode(rootOwned, (UnixFileMode)0x1A4); // 0644: nobody may read, not write
        string theirs = Write("nobody-600", MiB, sync: true);
        Assert.Equal(0, chown(theirs, nobody, nobody));
        File.SetUnixFileMode(theirs, (UnixFileMode)0x180); // 0600
        string secret = Write("root-600", MiB, sync: true);
        File.SetUnixFileMode(secret, (UnixFileMode)0x180);
        using (CachedFile asRoot = CachedFile.Open(rootOwned))
        {
            FileAdvisor.Advise(asRoot, FileAdvice.DontNeed, 0, 0, flush: false); // nothing cached: a lie would say all
        }

        long theirsCached;
        using (CachedFile asRoot = CachedFile.Open(theirs))
        {
            FileAdvisor.Advise(asRoot, FileAdvice.DontNeed, 0, 0, flush: false);
            ReadAll(theirs, 0, MiB / 2);
            theirsCached = FileCacheMeter.Measure(asRoot).Cached;
        }

        uint previous = Libc.SetFsuid(nobody);
        try
        {
            Assert.Equal(nobody, Libc.CurrentFsuid);
            using (CachedFile file = CachedFile.Open(rootOwned))
            {
                Assert.False(PageCacheVisibility.CallerCanSee(file));
                Assert.Equal(FileCacheFailure.PageCacheHidden, Assert.Throws<FileCacheException>(() => FileCacheMeter.Measure(file)).Failure);
                Assert.Equal(FileCacheFailure.PageCacheHidden,
                    Assert.Throws<FileCacheException>(() => FileCacheMeter.Measure(file, method: CacheMeasureMethod.Mincore)).Failure);
            }

            using (CachedFile file = CachedFile.Open(theirs))
            {
                Assert.True(PageCacheVisibility.CallerCanSee(file));
                Assert.Equal(theirsCached, FileCacheMeter.Measure(file).Cached);
                Assert.Equal(theirsCached, FileCacheMeter.Measure(file, method: CacheMeasureMethod.Mincore).Cached);
            }

            FileCacheException denied = Assert.Throws<FileCacheException>(() => CachedFile.Open(secret));
            Assert.Equal(FileCacheFailure.AccessDenied, denied.Failure);
            Assert.Equal((int)Errno.EACCES, denied.ErrorNumber);
        }
        finally
        {
            Libc.SetFsuid(previous);
        }

        Assert.Equal(0u, Libc.CurrentFsuid);
    }

    [Theory]
    [InlineData(FileAdvice.DontNeed, Architecture.X64, 4)]
    [InlineData(FileAdvice.NoReuse, Architecture.Arm64, 5)]
    [InlineData(FileAdvice.DontNeed, Architecture.S390x, 6)]
    [InlineData(FileAdvice.NoReuse, Architecture.S390x, 7)]
    [InlineData(FileAdvice.WillNeed, Architecture.S390x, 3)]
    public void FadviseNumbersFollowTheArchitecture(FileAdvice advice, Architecture architecture, int value) =>
        Assert.Equal(value, FileCacheFacts.FadviseValue(advice, architecture));

    [Theory]
    [InlineData(0, 8192, 10000, 0, 8192)]        // ends on a page boundary
    [InlineData(0, 9000, 10000, 0, 8192)]        // partial last page kept
    [InlineData(0, 10000, 10000, 0, 12288)]      // reaches the end of the file: its last page goes
    [InlineData(100, 20000, 10000, 4096, 12288)] // partial first page kept
    public void DontNeedDropsWholePagesOnly(long offset, long end, long size, long first, long last) =>
        Assert.Equal((first, last), FileCacheFacts.DontNeedWholePages(offset, end, size, 4096));

    [Fact]
    public void TheReadaheadWindowFallsBackTo128KiB() =>
        Assert.Equal(128 * 1024, FileCacheFacts.ReadaheadWindowBytes(0, 0));

    [Fact]
    public void TheWalkerYieldsFilesDepthFirstWithoutFollowingLinks()
    {
        string root = Path.Combine(_folder, "tree");
        Directory.CreateDirectory(Path.Combine(root, "b", "c"));
        Directory.CreateDirectory(Path.Combine(root, "a"));
        File.WriteAllText(Path.Combine(root, "z"), "z");
        File.WriteAllText(Path.Combine(root, "a", "1"), "1");
        File.WriteAllText(Path.Combine(root, "b", "c", "2"), "2");
        File.CreateSymbolicLink(Path.Combine(root, "link-to-file"), Path.Combine(root, "z"));
        Directory.CreateSymbolicLink(Path.Combine(root, "b", "loop"), root);

        var errors = new System.Collections.Generic.List<string>();
        string[] files = DirectoryWalker.Files(root, (d, _) => errors.Add(d)).ToArray();
        Assert.Equal(new[] { Path.Combine(root, "z"), Path.Combine(root, "a", "1"), Path.Combine(root, "b", "c", "2") }, files);
        Assert.Empty(errors);

        Assert.Empty(DirectoryWalker.Files(Path.Combine(_folder, "absent"), (d, _) => errors.Add(d)));
        Assert.Equal(new[] { Path.Combine(_folder, "absent") }, errors);
    }

    [Fact]
    public void GetFileCacheRecursesWithProgressAndItsOutputSurvivesRemoting()
    {
        string root = Path.Combine(_folder, "hosted");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        Write(Path.Combine("hosted", "one"), MiB, sync: true);
        Write(Path.Combine("hosted", "sub", "two"), 2 * MiB, sync: true);
        Assert.Equal(0, mkfifo(Path.Combine(root, "sub", "fifo"), 0x1A4));

        InitialSessionState state = InitialSessionState.CreateDefault2();
        state.ImportPSModule(typeof(GetFileCacheCommand).Assembly.Location);
        using Runspace runspace = RunspaceFactory.CreateRunspace(state);
        runspace.Open();
        using PowerShell ps = PowerShell.Create(runspace);
        var results = ps.AddCommand("Get-FileCache").AddParameter("Path", root).AddParameter("Recurse").Invoke();

        Assert.Empty(ps.Streams.Error); // the FIFO is passed over, not an error
        Assert.Equal(new[] { Path.Combine(root, "one"), Path.Combine(root, "sub", "two") }, results.Select(r => ((FileCache)r.BaseObject).Path));
        Assert.Equal(new[] { (long)MiB, 2L * MiB }, results.Select(r => ((FileCache)r.BaseObject).Size));
        Assert.NotEmpty(ps.Streams.Progress);
        Assert.Equal(ProgressRecordType.Completed, ps.Streams.Progress.Last().RecordType);

        PSObject back = (PSObject)PSSerializer.Deserialize(PSSerializer.Serialize(results[0]));
        Assert.Equal("Deserialized.MadvPS.FileCache", back.TypeNames[0]);
        Assert.Equal((long)MiB, (long)back.Properties["Size"].Value);
        Assert.Equal("Cachestat", back.Properties["Source"].Value.ToString());

        var advice = new FileAdviceResult { Path = "/x", Advice = FileAdvice.DontNeed, DirtyBefore = null, CachedAfter = 5 };
        PSObject adviceBack = (PSObject)PSSerializer.Deserialize(PSSerializer.Serialize(advice));
        Assert.Equal("Deserialized.MadvPS.FileAdviceResult", adviceBack.TypeNames[0]);
        Assert.Equal(5L, (long)adviceBack.Properties["CachedAfter"].Value);
    }

    private string Write(string name, int size, bool sync)
    {
        string path = Path.Combine(_folder, name);
        var buffer = new byte[MiB];
        new Random(size).NextBytes(buffer);
        // OpenOrCreate, not Create: .NET truncates with ftruncate(0), and ext4 starts writing back a
        // file truncated to zero when it is closed (auto_da_alloc), which would leave nothing dirty.
        using (var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite))
        {
            for (int written = 0; written < size; written += buffer.Length)
            {
                stream.Write(buffer, 0, Math.Min(buffer.Length, size - written));
            }

            stream.Flush(flushToDisk: sync);
        }

        return path;
    }

    // readahead: false opens with FileOptions.RandomAccess, which .NET passes on as
    // posix_fadvise(POSIX_FADV_RANDOM): the kernel then reads just the pages asked for (FMODE_RANDOM).
    private static void ReadAll(string path, long offset, int length, bool readahead = true)
    {
        var buffer = new byte[MiB];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, readahead ? FileOptions.None : FileOptions.RandomAccess);
        stream.Position = offset;
        for (int read = 0; read < length;)
        {
            int n = stream.Read(buffer, 0, Math.Min(buffer.Length, length - read));
            if (n == 0)
            {
                break;
            }

            read += n;
        }
    }

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int mkfifo(string path, uint mode);

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int chown(string path, uint owner, uint group);
}
