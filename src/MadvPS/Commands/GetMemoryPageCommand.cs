using System;
using System.Collections.Generic;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Writes where the pages of mappings are (resident, swapped, absent) as runs of adjacent pages in
/// the same state, from /proc/PID/pagemap; or, with -Summary, one total per mapping.
/// </summary>
[Cmdlet(VerbsCommon.Get, "MemoryPage", DefaultParameterSetName = RunsSet)]
[OutputType(typeof(MemoryPageRun), ParameterSetName = new[] { RunsSet })]
[OutputType(typeof(MemoryPageSummary), ParameterSetName = new[] { SummarySet })]
public sealed class GetMemoryPageCommand : PSCmdlet, IDisposable
{
    private const string RunsSet = "Runs";
    private const string SummarySet = "Summary";

    private readonly Dictionary<(int, ulong?, string?), PagedProcess?> _processes = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ProcessId")]
    [ValidateRange(1, int.MaxValue)]
    [ArgumentCompleter(typeof(ProcessIdCompleter))]
    public int Id { get; set; }

    /// <summary>The first byte of the range; a MemoryMapping's Start. Without it, every mapping of the process.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Start")]
    public ulong? Address { get; set; }

    /// <summary>The length of the range in bytes; a MemoryMapping's Size.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Size")]
    [ValidateRange(1, long.MaxValue)]
    public long? Length { get; set; }

    /// <summary>The end of the range, for input that has End and no Size.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public ulong? End { get; set; }

    /// <summary>The start time the process had when the mapping was read; refused if the PID now has another.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public ulong? ProcessStartTime { get; set; }

    /// <summary>The boot id of the host the mapping was read on; refused on any other host or boot.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? BootId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    [Alias("PSComputerName")]
    [AllowEmptyString]
    public string? ReadOn { get; set; }

    /// <summary>Only runs in these states.</summary>
    [Parameter(ParameterSetName = RunsSet)]
    public PageState[]? State { get; set; }

    /// <summary>One total per mapping instead of runs.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SummarySet)]
    public SwitchParameter Summary { get; set; }

    protected override void ProcessRecord()
    {
        var key = (Id, ProcessStartTime, BootId);
        if (!_processes.TryGetValue(key, out PagedProcess? process))
        {
            process = Open(key);
            _processes[key] = process;
        }

        if (process is null)
        {
            return;
        }

        ulong start, end;
        if (Address is ulong address)
        {
            ulong length = Length is long l ? (ulong)l : End is ulong e && e > address ? e - address : 0;
            if (length == 0)
            {
                WriteError(new ErrorRecord(new ArgumentException($"The range at 0x{address:x} has no length: give -Length (or pipe objects with Size or End)."),
                    "RangeLengthMissing", ErrorCategory.InvalidArgument, Id));
                return;
            }

            start = address;
            end = address + length < address ? ulong.MaxValue : address + length;
        }
        else
        {
            start = 0;
            end = ulong.MaxValue;
        }

        bool any = Cover(process, key, start, end);
        if (!any && _processes[key] is not null && Refreshed(process, key))
        {
            any = Cover(process, key, start, end);
        }

        if (!any && _processes[key] is not null)
        {
            WriteError(new ErrorRecord(
                new ArgumentException($"No mapping of process {process.ProcessId} ({process.Name}) lies in 0x{start:x}-0x{end:x}: it was unmapped since it was read, or the address is wrong. Get-MemoryMapping -Id {process.ProcessId} lists its mappings."),
                "RangeNotMapped", ErrorCategory.ObjectNotFound, Id));
        }
    }

    private bool Refreshed(PagedProcess process, (int, ulong?, string?) key)
    {
        try
        {
            return process.Refresh();
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, Id));
            _processes[key] = null;
            process.Dispose();
            return false;
        }
    }

    // Writes the pieces of [start, end) that lie in mappings; false when there are none.
    private bool Cover(PagedProcess process, (int, ulong?, string?) key, ulong start, ulong end)
    {
        bool any = false;
        foreach (MappedRange piece in process.Cut(start, end))
        {
            any = true;
            if (piece.Kind == MappingKind.Vsyscall)
            {
                WriteVerbose($"Process {process.ProcessId}: [vsyscall] at 0x{piece.Start:x} is outside the user address space; pagemap has nothing for it.");
                continue;
            }

            if (!Read(process, piece))
            {
                _processes[key] = null;
                process.Dispose();
                return true;
            }
        }

        return any;
    }

    // Writes the runs or the summary of one piece; false when the process can no longer be read.
    private bool Read(PagedProcess process, MappedRange piece)
    {
        ulong length = piece.End - piece.Start;
        try
        {
            if (Summary)
            {
                PageCounts c = process.Reader.Count(piece.Start, length);
                WriteObject(new MemoryPageSummary
                {
                    ProcessId = process.ProcessId,
                    ProcessName = process.Name,
                    ProcessStartTime = process.Stat.StartTime,
                    BootId = process.BootId,
                    Start = piece.Start,
                    End = piece.End,
                    Size = (long)length,
                    Path = piece.Path,
                    Kind = piece.Kind,
                    ResidentBytes = c.ResidentBytes,
                    SwappedBytes = c.SwappedBytes,
                    AbsentBytes = c.AbsentBytes,
                    ExclusiveBytes = c.ExclusiveBytes,
                    Runs = c.Runs,
                });
                return true;
            }

            foreach (PageRun run in process.Reader.Runs(piece.Start, length))
            {
                if (State is not null && Array.IndexOf(State, run.State) < 0)
                {
                    continue;
                }

                WriteObject(new MemoryPageRun
                {
                    ProcessId = process.ProcessId,
                    ProcessName = process.Name,
                    ProcessStartTime = process.Stat.StartTime,
                    BootId = process.BootId,
                    Start = run.Start,
                    End = run.End,
                    Size = (long)run.Length,
                    State = run.State,
                    Path = piece.Path,
                    Kind = piece.Kind,
                    Exclusive = run.Exclusive,
                    FilePage = run.FilePage,
                    Huge = run.Huge,
                    ZeroPage = run.ZeroPage,
                });
            }

            return true;
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, Id));
            return false;
        }
        catch (PageRangeException e)
        {
            WriteError(new ErrorRecord(e, "PageRangeInvalid", ErrorCategory.InvalidArgument, Id));
            return true;
        }
        catch (Exception e) when (KernelError.TryGet(e, out int errno))
        {
            WriteError(new ErrorRecord(e, "PagemapReadFailed", ErrorRecords.CategoryOf(errno), Id));
            return false;
        }
    }

    private PagedProcess? Open((int Id, ulong? StartTime, string? BootId) key)
    {
        try
        {
            PagedProcess process = PagedProcess.Open(key.Id, key.StartTime, key.BootId, ReadOn);
            WriteVerbose(process.Reader.Source == PageSource.PagemapScan
                ? $"Process {process.ProcessId} ({process.Name}): pages from the PAGEMAP_SCAN ioctl on /proc/{process.ProcessId}/pagemap, with the pagemap words of the pages it reports."
                : $"Process {process.ProcessId} ({process.Name}): pages from a pagemap read of /proc/{process.ProcessId}/pagemap (this kernel, {KernelInfo.Version}, has no PAGEMAP_SCAN: it came in Linux 6.7); Huge and ZeroPage are not known and read as false.");
            return process;
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, key.Id));
            return null;
        }
        catch (Exception e) when (KernelError.TryGet(e, out int errno))
        {
            WriteError(new ErrorRecord(e, "PagemapReadFailed", ErrorRecords.CategoryOf(errno), key.Id));
            return null;
        }
    }

    protected override void EndProcessing() => Dispose();

    public void Dispose()
    {
        foreach (PagedProcess? process in _processes.Values)
        {
            process?.Dispose();
        }

        _processes.Clear();
    }
}
