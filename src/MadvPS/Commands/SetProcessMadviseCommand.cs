using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading.Tasks;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Advises a whole process, or its anonymous or file-backed part, in one go, the way Android's
/// system server compacts idle apps; reports RSS and Swap before and after.
/// </summary>
[Cmdlet(VerbsCommon.Set, "ProcessMadvise", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ProcessSelector.IdSet)]
[OutputType(typeof(ProcessAdviceResult))]
public sealed class SetProcessMadviseCommand : PSCmdlet
{
    private volatile bool _stopping;
    private volatile ProcessHandle? _current;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ProcessSelector.IdSet)]
    [Alias("ProcessId", "PID")]
    [ValidateRange(1, int.MaxValue)]
    [ArgumentCompleter(typeof(ProcessIdCompleter))]
    public int[] Id { get; set; } = Array.Empty<int>();

    [Parameter(Mandatory = true, ParameterSetName = ProcessSelector.NameSet)]
    [Alias("ProcessName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ProcessNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ProcessSelector.InputObjectSet)]
    public Process[] InputObject { get; set; } = Array.Empty<Process>();

    /// <summary>Only the advices the kernel accepts for another process: Cold, PageOut, WillNeed, Collapse.</summary>
    [Parameter(Mandatory = true)]
    [AdviceTransformation]
    [ValidateOtherProcessAdvice]
    [ArgumentCompleter(typeof(OtherProcessAdviceCompleter))]
    public string Advice { get => _advice.ToString(); set => _advice = AdviceTransformationAttribute.Parse(value); }

    /// <summary>-Advice as the enum: what the object model and the kernel calls use.</summary>
    private MemoryAdvice _advice;

    [Parameter]
    public MappingSelection MappingType { get; set; } = MappingSelection.All;

    /// <summary>Stops the process (SIGSTOP) from the reading of its mappings until the advice is done.</summary>
    [Parameter]
    public SwitchParameter Freeze { get; set; }

    protected override void ProcessRecord()
    {
        foreach ((int id, object target, bool foundByName) in ProcessSelector.Selected(this, Id, Name, InputObject))
        {
            AdviseProcess(id, target, foundByName);
        }
    }

    protected override void StopProcessing()
    {
        _stopping = true;
        _current?.Resume();
    }

    private void AdviseProcess(int processId, object target, bool foundByName = false)
    {
        if (_stopping)
        {
            return;
        }

        if (!AdviceFacts.AllowedForOtherProcess(_advice, KernelInfo.Version))
        {
            WriteError(ErrorRecords.AdviceNotAllowedForOtherProcess(_advice, processId, target));
            return;
        }

        var clock = Stopwatch.StartNew();
        try
        {
            // Open reads /proc/PID/stat after the pidfd, and checks the pidfd is still live after
            // that: the stat it keeps is the process the pidfd holds, with no earlier read needed.
            using ProcessHandle handle = ProcessHandle.Open(processId, expectedStartTime: null, expectedBootId: null);
            string name = ProcessNames.Resolve(processId, handle.Stat.Command);
            _current = handle;
            try
            {
                if (Freeze)
                {
                    handle.Freeze();
                }

                // The totals before and the list of mappings are two walks of the kernel's that do
                // not depend on each other: on two cores they take the time of one.
                Task<ProcessMemory?> totalsBefore = Task.Run(() => MappingReader.ReadRollup(handle.Stat, name));
                var plan = new AdvicePlan(_advice);
                MappingSource source = AdviceMappings.Collect(handle.Stat, name, MappingType, plan, out string? smapsReason, stopping: () => _stopping);
                if (_stopping)
                {
                    // Ctrl+C: StopProcessing has resumed the process; the listing was left part way.
                    return;
                }

                ProcessMemory? before = totalsBefore.GetAwaiter().GetResult();
                WriteVerbose(source == MappingSource.Maps
                    ? $"Listed the mappings of process {processId} from /proc/{processId}/maps: no selected mapping can carry a VmFlag that makes {_advice} skip it."
                    : $"Listed the mappings of process {processId} from /proc/{processId}/smaps, for the VmFlags of each: {smapsReason}.");

                if (!ShouldProcess($"process {processId} ({name})", $"{_advice} on the {MappingType} mappings: {plan.RangesToSend} range(s), {Display.Bytes(plan.BytesToSend)}"))
                {
                    return;
                }

                AdviceRun.Execute(this, plan, handle, () => _stopping);
                bool frozen = handle.IsFrozenByUs;
                handle.Resume();
                ProcessMemory? after = MappingReader.ReadRollup(handle.Stat, name);

                var result = new ProcessAdviceResult
                {
                    ProcessId = processId,
                    ProcessName = name,
                    Advice = _advice,
                    MappingType = MappingType.ToString(),
                    Frozen = frozen,
                    Calls = plan.Calls,
                    RssBefore = before?.Rss ?? 0,
                    SwapBefore = before?.Swap ?? 0,
                    RssAfter = after?.Rss ?? 0,
                    SwapAfter = after?.Swap ?? 0,
                };
                foreach (PlannedRange range in plan.Ranges)
                {
                    result.RangesRequested++;
                    result.BytesRequested += range.Length;
                    result.BytesAdvised += range.Outcome.BytesAdvised;
                    if (range.SkipReason is not null)
                    {
                        result.RangesSkipped++;
                        WriteVerbose($"Skipped {range.Start:x}-{range.Start + (ulong)range.Length:x} {range.Path}: {range.SkipReason}");
                    }
                    else if (range.Outcome.Errno != 0)
                    {
                        result.RangesFailed++;
                        WriteVerbose($"Failed {range.Start:x}-{range.Start + (ulong)range.Length:x} {range.Path}: {Interop.LinuxErrorException.NameOf(range.Outcome.Errno)}, {ErrorRecords.ExplainRange(_advice, range.Outcome.Errno)}");
                    }
                }

                result.RssReclaimed = result.RssBefore - result.RssAfter;
                result.Duration = clock.Elapsed;
                WriteObject(result);
            }
            finally
            {
                _current = null;
                handle.Resume();
            }
        }
        catch (ProcessAccessException e) when (foundByName && e.Failure is ProcessAccessFailure.NotFound && ProcessStat.TryRead(processId) is null)
        {
            WriteVerbose($"Process {processId} exited before it could be advised.");
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, target));
        }
        catch (ProcessAdviceException e)
        {
            WriteError(ErrorRecords.ForWholeCall(e, _advice, processId, target));
        }
        catch (SmapsFormatException e)
        {
            WriteError(ErrorRecords.ForFormat(e, processId));
        }
    }
}
