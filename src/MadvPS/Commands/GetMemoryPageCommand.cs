using System;
using System.Collections.Generic;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Writes where the pages of mappings are (resident, swapped, absent) as runs of adjacent pages in
/// the same state, from /proc/PID/pagemap; or, with -Summary, one total per mapping.
/// </summary>
[Cmdlet(VerbsCommon.Get, "MemoryPage", DefaultParameterSetName = InputObjectRunsSet)]
[OutputType(typeof(MemoryPageRun), ParameterSetName = new[] { RunsSet, InputObjectRunsSet })]
[OutputType(typeof(MemoryPageSummary), ParameterSetName = new[] { SummarySet, InputObjectSummarySet })]
public sealed class GetMemoryPageCommand : PSCmdlet, IDisposable
{
    private const string RunsSet = "Runs";
    private const string SummarySet = "Summary";
    private const string InputObjectRunsSet = "InputObjectRuns";
    private const string InputObjectSummarySet = "InputObjectSummary";

    private readonly Dictionary<(int, ulong?, string?), PagedProcess?> _processes = new();
    // Pieces of one process waiting to be read together (PageGroup), and whose they are.
    private readonly PageGroup _group = new();
    private PagedProcess? _groupProcess;
    private (int Id, ulong?, string?) _groupKey;
    private PageCounts[] _counts = Array.Empty<PageCounts>();
    // The process of the last input, while it can be read.
    private (int Id, ulong? StartTime, string? BootId) _lastKey;
    private PagedProcess? _lastProcess;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = RunsSet)]
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = SummarySet)]
    [Alias("ProcessId")]
    [ValidateRange(1, int.MaxValue)]
    [ArgumentCompleter(typeof(ProcessIdCompleter))]
    public int Id { get; set; }

    /// <summary>The first byte of the range; a MemoryMapping's Start. Without it, every mapping of the process.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = RunsSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = SummarySet)]
    [Alias("Start")]
    public ulong? Address { get; set; }

    /// <summary>The length of the range in bytes; a MemoryMapping's Size.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = RunsSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = SummarySet)]
    [Alias("Size")]
    [ValidateRange(1, long.MaxValue)]
    public long? Length { get; set; }

    /// <summary>The end of the range, for input that has End and no Size.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true, ParameterSetName = RunsSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true, ParameterSetName = SummarySet)]
    public ulong? End { get; set; }

    /// <summary>The start time the process had when the mapping was read; refused if the PID now has another.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = RunsSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = SummarySet)]
    public ulong? ProcessStartTime { get; set; }

    /// <summary>The boot id of the host the mapping was read on; refused on any other host or boot.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = RunsSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = SummarySet)]
    public string? BootId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true, ParameterSetName = RunsSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true, ParameterSetName = SummarySet)]
    [Alias("PSComputerName")]
    [AllowEmptyString]
    public string? ReadOn { get; set; }

    /// <summary>
    /// A live mapping from Get-MemoryMapping, bound by value: one parameter for PowerShell to bind
    /// per object instead of seven by property name (a scalar: binding an array parameter from the
    /// pipeline costs an array per object, some 12 % of the piped -Summary). Deserialized and CSV
    /// mappings are not of the type and bind by property name as before.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectRunsSet)]
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSummarySet)]
    public MemoryMapping? InputObject { get; set; }

    /// <summary>Only runs in these states.</summary>
    [Parameter(ParameterSetName = RunsSet)]
    [Parameter(ParameterSetName = InputObjectRunsSet)]
    public PageState[]? State { get; set; }

    /// <summary>One total per mapping instead of runs.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SummarySet)]
    [Parameter(Mandatory = true, ParameterSetName = InputObjectSummarySet)]
    public SwitchParameter Summary { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is null)
        {
            Take(Id, ProcessStartTime, BootId, ReadOn, Address, Length, End);
            return;
        }

        // What binding by property name would take from it (ReadOn: a live object has no PSComputerName).
        MemoryMapping m = InputObject;
        Take(m.ProcessId, m.ProcessStartTime, m.BootId, null, m.Start, m.Size > 0 ? m.Size : null, m.End);
    }

    private void Take(int id, ulong? startTime, string? bootId, string? readOn, ulong? address, long? length, ulong? endAt)
    {
        var key = (id, startTime, bootId);
        PagedProcess? process;
        if (_lastProcess is not null && id == _lastKey.Id && startTime == _lastKey.StartTime && string.Equals(bootId, _lastKey.BootId, StringComparison.Ordinal))
        {
            // The same process as the input before (the usual case of piped mappings): no lookup.
            process = _lastProcess;
        }
        else if (!_processes.TryGetValue(key, out process))
        {
            Flush();
            process = Open(key, readOn);
            _processes[key] = process;
        }

        if (process is null)
        {
            return;
        }

        (_lastKey, _lastProcess) = (key, process);
        ulong start, end;
        if (address is ulong a)
        {
            ulong span = length is long l ? (ulong)l : endAt is ulong e && e > a ? e - a : 0;
            if (span == 0)
            {
                Flush();
                WriteError(new ErrorRecord(new ArgumentException($"The range at 0x{a:x} has no length: give -Length (or pipe objects with Size or End)."),
                    "RangeLengthMissing", ErrorCategory.InvalidArgument, id));
                return;
            }

            start = a;
            end = a + span < a ? ulong.MaxValue : a + span;
        }
        else
        {
            start = 0;
            end = ulong.MaxValue;
        }

        bool any = Cover(process, key, start, end);
        if (!any && _processes[key] is not null && Refreshed(process, key, start, end))
        {
            any = Cover(process, key, start, end);
        }

        if (!any && _processes[key] is not null)
        {
            Flush();
            WriteError(new ErrorRecord(
                new ArgumentException($"No mapping of process {process.ProcessId} ({process.Name}) lies in 0x{start:x}-0x{end:x}: it was unmapped since it was read, or the address is wrong. Get-MemoryMapping -Id {process.ProcessId} lists its mappings."),
                "RangeNotMapped", ErrorCategory.ObjectNotFound, id));
        }
    }

    private bool Refreshed(PagedProcess process, (int Id, ulong?, string?) key, ulong start, ulong end)
    {
        try
        {
            return process.Refresh(start, end);
        }
        catch (ProcessAccessException e)
        {
            Flush();
            WriteError(ErrorRecords.ForProcess(e, key.Id));
            Drop(key, process);
            return false;
        }
    }

    private void Drop((int, ulong?, string?) key, PagedProcess process)
    {
        _processes[key] = null;
        if (_lastProcess == process)
        {
            _lastProcess = null;
        }

        process.Dispose();
    }

    // Queues the pieces of [start, end) that lie in mappings; false when there are none.
    private bool Cover(PagedProcess process, (int, ulong?, string?) key, ulong start, ulong end)
    {
        IReadOnlyList<MappedRange> mappings = process.Mappings;
        int first = process.FirstEndingAfter(start);
        for (int i = first; i < mappings.Count && mappings[i].Start < end; i++)
        {
            MappedRange piece = process.Piece(i, start, end);
            if (piece.Kind == MappingKind.Vsyscall)
            {
                Flush();
                WriteVerbose($"Process {process.ProcessId}: [vsyscall] at 0x{piece.Start:x} is outside the user address space; pagemap has nothing for it.");
                continue;
            }

            if (_groupProcess != process || !_group.TryAdd(piece))
            {
                Flush();
                if (_processes[key] is null)
                {
                    // The read of what was queued found the process gone.
                    return true;
                }

                _groupProcess = process;
                _groupKey = key;
                _group.TryAdd(piece);
            }
        }

        return first < mappings.Count && mappings[first].Start < end;
    }

    // Reads and writes the queued pieces; the process is dropped when it can no longer be read.
    private void Flush()
    {
        if (_group.Count == 0 || _groupProcess is not PagedProcess process)
        {
            return;
        }

        bool readable = Read(process, _groupKey.Id);
        _group.Clear();
        _groupProcess = null;
        if (!readable)
        {
            Drop(_groupKey, process);
        }
    }

    // Writes the runs or the summaries of the queued pieces; false when the process can no longer be read.
    private bool Read(PagedProcess process, int id)
    {
        try
        {
            if (Summary)
            {
                if (_counts.Length < _group.Count)
                {
                    _counts = new PageCounts[Math.Max(_group.Count, 2 * _counts.Length)];
                }

                _group.Counts(process.Reader, _counts);
                for (int i = 0; i < _group.Count; i++)
                {
                    WriteSummary(process, _group.Pieces[i], _counts[i]);
                }

                return true;
            }

            IReadOnlyList<MappedRange> pieces = _group.Pieces;
            if (pieces.Count == 1)
            {
                // One piece (a range asked for alone, a large mapping): its runs straight from the reader.
                MappedRange only = pieces[0];
                foreach (PageRun run in process.Reader.Runs(only.Start, only.End - only.Start))
                {
                    WriteRun(process, only, run);
                }
            }
            else
            {
                foreach ((int index, PageRun run) in _group.Runs(process.Reader))
                {
                    WriteRun(process, pieces[index], run);
                }
            }

            return true;
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, id));
            return false;
        }
        catch (PageRangeException e)
        {
            WriteError(ErrorRecords.ForPageRange(e, id));
            return true;
        }
        catch (Exception e) when (KernelError.TryGet(e, out int errno))
        {
            WriteError(new ErrorRecord(e, "PagemapReadFailed", ErrorRecords.CategoryOf(errno), id));
            return false;
        }
    }

    private void WriteRun(PagedProcess process, in MappedRange piece, in PageRun run)
    {
        if (State is not null && Array.IndexOf(State, run.State) < 0)
        {
            return;
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

    private void WriteSummary(PagedProcess process, in MappedRange piece, in PageCounts c) =>
        WriteObject(new MemoryPageSummary
        {
            ProcessId = process.ProcessId,
            ProcessName = process.Name,
            ProcessStartTime = process.Stat.StartTime,
            BootId = process.BootId,
            Start = piece.Start,
            End = piece.End,
            Size = (long)(piece.End - piece.Start),
            Path = piece.Path,
            Kind = piece.Kind,
            ResidentBytes = c.ResidentBytes,
            SwappedBytes = c.SwappedBytes,
            AbsentBytes = c.AbsentBytes,
            ExclusiveBytes = c.ExclusiveBytes,
            Runs = c.Runs,
        });

    private PagedProcess? Open((int Id, ulong? StartTime, string? BootId) key, string? readOn)
    {
        try
        {
            PagedProcess process = PagedProcess.Open(key.Id, key.StartTime, key.BootId, readOn);
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

    protected override void EndProcessing()
    {
        Flush();
        Dispose();
    }

    public void Dispose()
    {
        foreach (PagedProcess? process in _processes.Values)
        {
            process?.Dispose();
        }

        _processes.Clear();
        _group.Clear();
        _groupProcess = null;
        _lastProcess = null;
    }
}
