using System;
using System.Collections.Generic;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Gives an advice to the ranges piped in (MemoryMapping objects, deserialized ones, CSV rows) or
/// named with -Id, -Address and -Length, with process_madvise over a pidfd, many ranges a call.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "MemoryAdvice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(AdviceResult))]
public sealed class InvokeMemoryAdviceCommand : PSCmdlet
{
    private readonly Dictionary<(int, ulong?, string?, ulong?), Batch> _batches = new();
    private readonly List<Batch> _order = new();
    private volatile bool _stopping;
    private volatile ProcessHandle? _current;

    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(AdviceCompleter))]
    public MemoryAdvice Advice { get; set; }

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ProcessId")]
    [ValidateRange(1, int.MaxValue)]
    [ArgumentCompleter(typeof(ProcessIdCompleter))]
    public int Id { get; set; }

    /// <summary>The first byte of the range; a MemoryMapping's Start.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Start")]
    public ulong Address { get; set; }

    /// <summary>The length of the range in bytes; a MemoryMapping's Size.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Size")]
    [ValidateRange(1, long.MaxValue)]
    public long Length { get; set; }

    /// <summary>The start time the process had when the range was read; advice is refused if the PID now has another.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public ulong? ProcessStartTime { get; set; }

    /// <summary>The boot id of the host the range was read on; advice is refused on any other host or boot.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? BootId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public VmFlags? VmFlags { get; set; }

    /// <summary>The PID namespace the range was read in; advice is refused in any other, where its ProcessId names another process.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public ulong? PidNamespace { get; set; }

    /// <summary>The host a deserialized object or CSV row was read on (Invoke-Command's PSComputerName); named when its BootId is not this host's.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    [Alias("PSComputerName")]
    [AllowEmptyString]
    public string? ReadOn { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public MappingKind? Kind { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    [Alias("Path")]
    [AllowEmptyString]
    public string? MappingPath { get; set; }

    /// <summary>The resident bytes of the range, when it came from Get-MemoryMapping: what WillNeed and Populate* need not bring in.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? Rss { get; set; }

    /// <summary>The swapped-out bytes of the range, when it came from Get-MemoryMapping: what WillNeed reads back from swap.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? Swap { get; set; }

    /// <summary>Allows advice that destroys data (DontNeed, Free, Remove…) on the calling process itself, and WillNeed or Populate* above the memory limit.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var key = (Id, ProcessStartTime, BootId, PidNamespace);
        if (!_batches.TryGetValue(key, out Batch? batch))
        {
            batch = new Batch(Id, ProcessStartTime, BootId, ReadOn, PidNamespace, new AdvicePlan(Advice));
            _batches.Add(key, batch);
            _order.Add(batch);
        }

        batch.Plan.Add(Address, Length, MappingPath ?? "", VmFlags, Kind, Rss, Swap);
    }

    protected override void EndProcessing()
    {
        foreach (Batch batch in _order)
        {
            if (_stopping)
            {
                return;
            }

            Advise(batch);
        }
    }

    protected override void StopProcessing()
    {
        _stopping = true;
        _current?.Resume();
    }

    private void Advise(Batch batch)
    {
        AdvicePlan plan = batch.Plan;
        AdviceFact fact = AdviceFacts.Of(Advice);

        // Same boot, other PID namespace (a container): the PID is numbered differently here. The
        // boot check comes first (in ProcessHandle.Open) only for objects of this namespace.
        ulong here = ProcessIdentity.CurrentPidNamespace;
        if (batch.PidNamespace is ulong there && there != 0 && here != 0 && there != here
            && (batch.BootId is null || string.Equals(batch.BootId, ProcessIdentity.CurrentBootId, StringComparison.OrdinalIgnoreCase)))
        {
            WriteError(ErrorRecords.ForProcess(new ProcessAccessException(ProcessAccessFailure.OtherPidNamespace, batch.ProcessId,
                $"The object for process {batch.ProcessId} was read in another PID namespace (pid:[{there}]); this session is in pid:[{here}], where PID {batch.ProcessId} names another process or none. Nothing was advised: advise it from inside that namespace (nsenter --target <its PID here> --pid --mount pwsh), or read the mappings again here."),
                batch.ProcessId));
            return;
        }

        // A thread's ID means its process: the memory is the process's (and the pwsh's own
        // threads are the caller itself).
        ProcessTarget process;
        try
        {
            process = ProcessLookup.Resolve(batch.ProcessId);
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, batch.ProcessId));
            return;
        }

        int processId = process.ProcessId;
        bool self = processId == Environment.ProcessId;

        if (!self && !AdviceFacts.AllowedForOtherProcess(Advice, KernelInfo.Version))
        {
            WriteError(ErrorRecords.AdviceNotAllowedForOtherProcess(Advice, processId, batch.ProcessId));
            return;
        }

        if (self && !AdviceFacts.AllowedForSelf(Advice, KernelInfo.Version))
        {
            WriteError(new ErrorRecord(
                new InvalidOperationException($"process_madvise takes {Advice} for the calling process only from Linux {AdviceFacts.AnyAdviceForSelfSince}; this is Linux {KernelInfo.Version}. Nothing was sent."),
                "AdviceNotAllowedForSelf", ErrorCategory.InvalidOperation, batch.ProcessId));
            return;
        }

        if (self && fact.DestroysData && !Force)
        {
            WriteError(new ErrorRecord(
                new InvalidOperationException($"{Advice} destroys the contents of the ranges in this PowerShell process ({processId}). Add -Force, and confirm, if that is what you want. Nothing was sent."),
                "DestructiveAdviceNeedsForce", ErrorCategory.InvalidOperation, batch.ProcessId));
            return;
        }

        ProcessHandle? opened = null;
        try
        {
            opened = ProcessHandle.Open(processId, batch.StartTime, batch.BootId, batch.ReadOn);
            ProcessLookup.RequireAddressSpace(opened.Stat, ProcessNames.Resolve(processId, opened.Stat.Command));
        }
        catch (ProcessAccessException e)
        {
            opened?.Dispose();
            WriteError(ErrorRecords.ForProcess(e, batch.ProcessId));
            return;
        }

        ProcessHandle handle = opened;

        using (handle)
        {
            string name = ProcessNames.Resolve(handle.ProcessId, handle.Stat.Command);
            string action = $"{Advice} on {plan.RangesToSend} range(s), {Display.Bytes(plan.BytesToSend)}" +
                (plan.Ranges.Count > plan.RangesToSend ? $" ({plan.Ranges.Count - plan.RangesToSend} skipped)" : "");
            string target = $"process {handle.ProcessId} ({name})";
            if (!ShouldProcess(target, action))
            {
                return;
            }

            if (fact.DestroysData && !ConfirmedDestructive(target))
            {
                return;
            }

            // After the data-safety refusals and the confirmation, before anything is sent.
            if (!AdviceFacts.KernelKnows(Advice))
            {
                WriteError(new ErrorRecord(
                    new NotSupportedException($"This kernel (Linux {KernelInfo.Version}) does not know {Advice} ({(int)Advice}): madvise answers EINVAL for it whatever the range, and Get-MemoryAdviceSupport shows KnownByKernel False." +
                        (Advice is MemoryAdvice.HwPoison or MemoryAdvice.SoftOffline ? " It needs a kernel built with CONFIG_MEMORY_FAILURE." : "") + " Nothing was sent."),
                    "AdviceUnknownToKernel", ErrorCategory.NotImplemented, batch.ProcessId));
                return;
            }

            if (AdvicePlan.BringsIn(Advice) && !ReadLimit.Allows(this, Force, plan.BytesToBringIn, $"{Advice} on {target}", batch.ProcessId))
            {
                return;
            }

            _current = handle;
            try
            {
                AdviceRun.Execute(this, plan, handle, () => _stopping);
            }
            catch (ProcessAdviceException e)
            {
                WriteError(ErrorRecords.ForWholeCall(e, Advice, handle.ProcessId, batch.ProcessId));
                return;
            }
            finally
            {
                _current = null;
            }

            foreach (PlannedRange range in plan.Ranges)
            {
                AdviceResult result = AdviceResults.For(range, handle.ProcessId, name, Advice);
                result.ThreadId = process.ThreadId;
                if (result.Status == AdviceStatus.Failed)
                {
                    WriteError(AdviceResults.RangeFailed(result, range.Outcome.Errno));
                }

                if (PassThru)
                {
                    WriteObject(result);
                }
            }
        }
    }

    // Advice that destroys data asks even when $ConfirmPreference would not, unless -Confirm:$false.
    private bool ConfirmedDestructive(string target)
    {
        if (MyInvocation.BoundParameters.TryGetValue("Confirm", out object? confirm) && confirm is SwitchParameter { IsPresent: false })
        {
            return true;
        }

        return ShouldContinue($"{Advice} destroys the contents of the ranges of {target}. Continue?", "Destructive memory advice");
    }

    private sealed record Batch(int ProcessId, ulong? StartTime, string? BootId, string? ReadOn, ulong? PidNamespace, AdvicePlan Plan);
}
