using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Measures the page cache of files: cached, dirty, writeback and evicted bytes from cachestat(2),
/// or cached bytes from mincore(2) where cachestat is missing.
/// </summary>
[Cmdlet(VerbsCommon.Get, "FileCache", DefaultParameterSetName = PathSet)]
[OutputType(typeof(FileCache))]
public sealed class GetFileCacheCommand : PSCmdlet
{
    internal const string PathSet = "Path";
    internal const string LiteralPathSet = "LiteralPath";
    private const int ProgressId = 1;

    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Stopwatch _progressClock = new();
    private volatile bool _stopping;
    private long _filesMeasured;
    private long _bytesCached;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    [AllowEmptyString]
    public string[] Path { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Measures every regular file under the directories named, without following symbolic links.</summary>
    [Parameter]
    public SwitchParameter Recurse { get; set; }

    /// <summary>A MemoryMapping's Kind: only File mappings are measured, the others are passed over.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? Kind { get; set; }

    /// <summary>A MemoryMapping's IsDeleted: the mapped file has no path any more.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public bool IsDeleted { get; set; }

    /// <summary>A MemoryMapping's Inode: a warning when the path now holds another file.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public ulong Inode { get; set; }

    protected override void ProcessRecord()
    {
        bool literal = ParameterSetName == LiteralPathSet;
        foreach (FileTarget target in FilePathResolver.NewTargets(this, literal ? LiteralPath : Path, literal, Kind, IsDeleted, _seen, "measure"))
        {
            if (_stopping)
            {
                return;
            }

            Measure(target.Path, target.Explicit, Inode);
        }
    }

    protected override void EndProcessing()
    {
        if (_progressClock.IsRunning)
        {
            WriteProgress(new ProgressRecord(ProgressId, "Measuring page cache", "Done") { RecordType = ProgressRecordType.Completed });
        }
    }

    protected override void StopProcessing() => _stopping = true;

    private void Measure(string path, bool isExplicit, ulong expectedInode)
    {
        CachedFile file;
        try
        {
            file = CachedFile.Open(path);
        }
        catch (FileCacheException e) when (e.Failure == FileCacheFailure.IsDirectory && Recurse)
        {
            Walk(path);
            return;
        }
        catch (FileCacheException e) when (!isExplicit && e.Failure is FileCacheFailure.IsDirectory or FileCacheFailure.NotRegularFile)
        {
            WriteVerbose($"Passing over '{path}', which a wildcard matched: {FailureText.Of(e)}");
            return;
        }
        catch (FileCacheException e)
        {
            WriteError(FileCacheErrors.For(e, path));
            return;
        }

        using (file)
        {
            if (expectedInode != 0 && file.Inode != expectedInode)
            {
                WriteWarning($"'{path}' is now inode {file.Inode}, but the mapping piped in names inode {expectedInode}: the file was replaced since the process mapped it (or is seen through an overlay). These figures are for the file at the path now.");
            }

            try
            {
                WriteObject(ToOutput(file, FileCacheMeter.Measure(file)));
            }
            catch (FileCacheException e)
            {
                WriteError(FileCacheErrors.For(e, path));
            }
        }
    }

    private void Walk(string directory)
    {
        _progressClock.Start();
        foreach (string path in DirectoryWalker.Files(directory, (d, e) => WriteError(FileCacheErrors.DirectoryUnreadable(d, e)), () => _stopping))
        {
            if (!_seen.Add(path))
            {
                continue;
            }

            if (_progressClock.ElapsedMilliseconds >= 250)
            {
                _progressClock.Restart();
                WriteProgress(new ProgressRecord(ProgressId, "Measuring page cache",
                    $"{_filesMeasured} files, {Display.Bytes(_bytesCached)} cached")
                { CurrentOperation = path });
            }

            // Files found by the walk are measured like wildcard matches: special files are passed over.
            Measure(path, isExplicit: false, expectedInode: 0);
        }
    }

    private FileCache ToOutput(CachedFile file, CacheFigures figures)
    {
        _filesMeasured++;
        _bytesCached += figures.Cached;
        long pages = FileCacheFacts.RoundUp(file.Size, FileCacheMeter.PageSize);
        return new FileCache
        {
            Path = file.Path,
            Size = file.Size,
            Cached = figures.Cached,
            CachedPercent = pages == 0 ? 0 : Math.Min(100, Math.Round(figures.Cached * 100.0 / pages, 1)),
            Dirty = figures.Dirty,
            Writeback = figures.Writeback,
            Evicted = figures.Evicted,
            RecentlyEvicted = figures.RecentlyEvicted,
            Source = figures.Source,
            Device = file.Device,
            Inode = file.Inode,
        };
    }
}
