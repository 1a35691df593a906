using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>Reads the mappings of processes from /proc/PID/smaps, or their totals from smaps_rollup.</summary>
[Cmdlet(VerbsCommon.Get, "MemoryMapping", DefaultParameterSetName = ProcessSelector.IdSet)]
[OutputType(typeof(MemoryMapping), ParameterSetName = new[] { ProcessSelector.IdSet, ProcessSelector.NameSet, ProcessSelector.InputObjectSet })]
[OutputType(typeof(ProcessMemory))]
public sealed class GetMemoryMappingCommand : PSCmdlet, IDisposable
{
    private WildcardPattern[]? _pathPatterns;
    private OrderedWindow<object>? _window;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ProcessSelector.IdSet)]
    [Alias("ProcessId", "PID")]
    [ValidateRange(1, int.MaxValue)]
    [ArgumentCompleter(typeof(ProcessIdCompleter))]
    public int[] Id { get; set; } = Array.Empty<int>();

    [Parameter(Mandatory = true, ParameterSetName = ProcessSelector.NameSet)]
    [Alias("ProcessName")]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ProcessNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ProcessSelector.InputObjectSet)]
    public Process[] InputObject { get; set; } = Array.Empty<Process>();

    /// <summary>Only mappings whose path matches one of these wildcard patterns.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Only the mappings that contain one of these addresses.</summary>
    [Parameter]
    public ulong[]? Address { get; set; }

    [Parameter]
    public MappingKind[]? Kind { get; set; }

    /// <summary>One total per process from smaps_rollup instead of one object per mapping.</summary>
    [Parameter]
    public SwitchParameter Rollup { get; set; }

    protected override void BeginProcessing()
    {
        if (Rollup && (Path is not null || Address is not null || Kind is not null))
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("-Rollup gives one total per process; it cannot be combined with -Path, -Address or -Kind, which select mappings. Leave out -Rollup to select mappings."),
                "RollupWithMappingFilter", ErrorCategory.InvalidArgument, null));
        }

        if (Path is not null)
        {
            _pathPatterns = Array.ConvertAll(Path, p => WildcardPattern.Get(p, WildcardOptions.None));
        }
    }

    protected override void ProcessRecord()
    {
        foreach ((int id, object target, bool foundByName) in ProcessSelector.Selected(this, Id, Name, InputObject))
        {
            // Processes are read a few at a time (one per CPU) and written in the order listed: the
            // window fills, then its oldest is written while the others read on.
            _window ??= new OrderedWindow<object>(Environment.ProcessorCount);
            _window.Add((emit, alone, cancel) => Read(id, target, foundByName, emit, alone, cancel));
            while (_window.IsFull)
            {
                _window.ConsumeOldest(Write);
            }
        }
    }

    protected override void EndProcessing()
    {
        _window?.ConsumeAll(Write);
    }

    public void Dispose()
    {
        _window?.Dispose();
    }

    // On the pipeline thread, in order.
    private void Write(object item)
    {
        switch (item)
        {
            case MemoryMapping mapping:
                if (Selected(mapping))
                {
                    WriteObject(mapping);
                }

                break;
            case ReadFailure { Error: ProcessAccessException e } failure
                when failure.FoundByName && e.Failure is ProcessAccessFailure.NotFound && ProcessStat.TryRead(e.ProcessId) is null:
                // Found by name a moment ago and gone before it was read: as with Get-Process, a
                // process that no longer exists is simply not listed.
                WriteVerbose($"Process {e.ProcessId} exited before its mappings were read.");
                break;
            case ReadFailure { Error: ProcessAccessException e } failure:
                WriteError(ErrorRecords.ForProcess(e, failure.Target));
                break;
            case ReadFailure { Error: SmapsFormatException e } failure:
                WriteError(ErrorRecords.ForFormat(e, failure.ProcessId));
                break;
            default:
                WriteObject(item);
                break;
        }
    }

    // Reads one process into emit: its mappings or its rollup, then a failure if it ends in one.
    // Runs on the pipeline thread (writing straight out) or on a worker of the window. Read-ahead
    // only when it reads alone: with other processes in flight the cores are busy already.
    private void Read(int processId, object target, bool foundByName, Action<object> emit, bool alone, CancellationToken cancel)
    {
        try
        {
            ProcessStat stat = MappingReader.Describe(processId);
            string name = ProcessNames.Resolve(processId, stat.Command);
            if (Rollup)
            {
                if (MappingReader.ReadRollup(stat, name) is ProcessMemory totals)
                {
                    ProcessDetails.Fill(totals);
                    emit(totals);
                }

                return;
            }

            foreach (MemoryMapping mapping in MappingReader.ReadMappings(stat, name, readAhead: alone))
            {
                emit(mapping);
            }
        }
        catch (Exception e) when (e is ProcessAccessException or SmapsFormatException)
        {
            emit(new ReadFailure(e, processId, target, foundByName));
        }
    }

    private sealed record ReadFailure(Exception Error, int ProcessId, object Target, bool FoundByName);

    private bool Selected(MemoryMapping mapping)
    {
        if (Kind is not null && Array.IndexOf(Kind, mapping.Kind) < 0)
        {
            return false;
        }

        if (Address is not null && !Array.Exists(Address, a => a >= mapping.Start && a < mapping.End))
        {
            return false;
        }

        return _pathPatterns is null || Array.Exists(_pathPatterns, p => p.IsMatch(mapping.Path));
    }
}
