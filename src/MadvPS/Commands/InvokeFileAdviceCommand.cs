using System;
using System.Collections.Generic;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Gives posix_fadvise advice to files: DontNeed drops their clean cached pages, WillNeed reads
/// them in; -PassThru tells the cached bytes before and after.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "FileAdvice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = GetFileCacheCommand.PathSet)]
[OutputType(typeof(FileAdviceResult))]
public sealed class InvokeFileAdviceCommand : PSCmdlet
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private bool _warnedOpenFileOnly;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = GetFileCacheCommand.PathSet)]
    [SupportsWildcards]
    [AllowEmptyString]
    public string[] Path { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = GetFileCacheCommand.LiteralPathSet)]
    [Alias("PSPath", "LP")]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, Position = 1)]
    public FileAdvice Advice { get; set; }

    /// <summary>The first byte of the range to advise.</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long Offset { get; set; }

    /// <summary>The bytes to advise from Offset; 0 (the default) means to the end of the file.</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long Length { get; set; }

    /// <summary>Writes the file's dirty pages (fdatasync) before DontNeed, so that they can leave too.</summary>
    [Parameter]
    public SwitchParameter Flush { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Lets WillNeed read more than $MadvPSReadLimitPercent (50) percent of MemAvailable, after a confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? Kind { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public bool IsDeleted { get; set; }

    /// <summary>The inode of the object piped in (a FileCache or a MemoryMapping): advice is refused if the path now holds another file.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public ulong Inode { get; set; }

    protected override void BeginProcessing()
    {
        if (Flush && Advice != FileAdvice.DontNeed)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"-Flush writes dirty pages so that DontNeed can drop them; it has no use with {Advice}. Leave out -Flush, or use -Advice DontNeed."),
                "FlushNeedsDontNeed", ErrorCategory.InvalidArgument, Advice));
        }
    }

    protected override void ProcessRecord()
    {
        bool literal = ParameterSetName == GetFileCacheCommand.LiteralPathSet;
        foreach (FileTarget target in FilePathResolver.NewTargets(this, literal ? LiteralPath : Path, literal, Kind, IsDeleted, _seen, "advise"))
        {
            Advise(target);
        }
    }

    private void Advise(FileTarget target)
    {
        CachedFile file;
        try
        {
            file = CachedFile.Open(target.Path);
        }
        catch (FileCacheException e) when (!target.Explicit && e.Failure is FileCacheFailure.IsDirectory or FileCacheFailure.NotRegularFile)
        {
            WriteVerbose($"Passing over '{target.Path}', which a wildcard matched: {FailureText.Of(e)}");
            return;
        }
        catch (FileCacheException e)
        {
            WriteError(FileCacheErrors.For(e, target.Path));
            return;
        }

        using (file)
        {
            if (Inode != 0 && file.Inode != Inode)
            {
                WriteError(FileCacheErrors.FileReplaced(file.Path, Inode, file.Inode, file.Path));
                return;
            }

            try
            {
                CacheFigures before;
                try
                {
                    before = FileCacheMeter.Measure(file, Offset, Length);
                }
                catch (FileCacheException e) when (e.Failure == FileCacheFailure.PageCacheHidden)
                {
                    // Advising needs only the read access the open proved; measuring needs more.
                    WriteWarning($"'{file.Path}': the advice is given, but its effect is not measured. {FailureText.Of(e)}");
                    before = FileAdvisor.NotVisible;
                }

                (long offset, long length) = FileAdvisor.Range(file, Offset, Length);
                string dirty = before.Dirty > 0 ? $", {Display.Bytes(before.Dirty.Value)} of it dirty" : "";
                List<(long Start, long Length)>? data = null;
                string holes = "";
                if (Advice == FileAdvice.WillNeed)
                {
                    data = FileExtents.Data(file, offset, Math.Min(file.Size, offset + length));
                    long dataBytes = FileExtents.Bytes(data);
                    holes = dataBytes < length ? $"; {Display.Bytes(dataBytes)} of data, the rest holes, which are not read" : "";
                }

                string action = $"{Advice} on bytes {offset}-{offset + length} ({Display.Bytes(length)}; {Display.Bytes(before.Cached)} cached now{dirty}{holes})";
                if (!ShouldProcess(file.Path, action))
                {
                    return;
                }

                Action<long, long>? progress = null;
                var record = new ProgressRecord(2, $"WillNeed on {file.Path}", "Asking the kernel to read the data in");
                if (data is not null)
                {
                    long toRead = Math.Max(0, FileExtents.Bytes(data) - before.Cached);
                    if (!ReadLimit.Allows(this, Force, toRead, $"WillNeed on '{file.Path}'", file.Path))
                    {
                        return;
                    }

                    progress = (done, total) =>
                    {
                        record.PercentComplete = (int)(100 * done / Math.Max(1, total));
                        record.StatusDescription = $"{Display.Bytes(done)} of {Display.Bytes(total)} asked for";
                        WriteProgress(record);
                    };
                }

                FileAdviceOutcome outcome = FileAdvisor.Advise(file, Advice, Offset, Length, Flush, before, dataExtents: data, progress: progress);
                string note = FailureText.FileNotes(Advice, outcome.Notes);
                if (progress is not null)
                {
                    record.RecordType = ProgressRecordType.Completed;
                    WriteProgress(record);
                }

                if (Advice == FileAdvice.DontNeed && !Flush && before.Dirty > 0 && outcome.After.Cached > 0)
                {
                    WriteWarning($"'{file.Path}': {note}");
                }

                if (!FileCacheFacts.ActsOnPageCache(Advice) && !_warnedOpenFileOnly)
                {
                    _warnedOpenFileOnly = true;
                    WriteWarning(note);
                }

                if (PassThru)
                {
                    WriteObject(new FileAdviceResult
                    {
                        Path = file.Path,
                        Advice = Advice,
                        Offset = outcome.Offset,
                        Length = outcome.Length,
                        Size = file.Size,
                        CachedBefore = outcome.Before.Cached,
                        CachedAfter = outcome.After.Cached,
                        DirtyBefore = outcome.Before.Dirty,
                        DirtyAfter = outcome.After.Dirty,
                        WritebackAfter = outcome.After.Writeback,
                        Flushed = outcome.Flushed,
                        Calls = outcome.Calls,
                        Source = outcome.After.Source,
                        Note = note,
                    });
                }
            }
            catch (FileCacheException e)
            {
                WriteError(FileCacheErrors.For(e, file.Path));
            }
        }
    }
}
