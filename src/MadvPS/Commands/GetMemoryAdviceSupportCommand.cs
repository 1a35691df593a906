using System;
using System.Linq;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>Tells which advice this kernel knows, which may target another process, and what on this host limits it.</summary>
[Cmdlet(VerbsCommon.Get, "MemoryAdviceSupport", DefaultParameterSetName = AdviceSet)]
[OutputType(typeof(MemoryAdviceSupport), ParameterSetName = new[] { AdviceSet })]
[OutputType(typeof(MemoryAdviceEnvironment), ParameterSetName = new[] { EnvironmentSet })]
public sealed class GetMemoryAdviceSupportCommand : PSCmdlet
{
    private const string AdviceSet = "Advice";
    private const string EnvironmentSet = "Environment";

    [Parameter(Position = 0, ParameterSetName = AdviceSet)]
    [ArgumentCompleter(typeof(AdviceCompleter))]
    public MemoryAdvice[]? Advice { get; set; }

    /// <summary>One object with the host's facts (kernel, swap, THP, capabilities) instead of one per advice.</summary>
    [Parameter(Mandatory = true, ParameterSetName = EnvironmentSet)]
    public SwitchParameter Environment { get; set; }

    protected override void EndProcessing()
    {
        Version kernel = KernelInfo.Version;
        if (Environment)
        {
            WriteObject(new MemoryAdviceEnvironment
            {
                KernelRelease = KernelInfo.Release,
                KernelVersion = kernel.ToString(),
                ProcessMadviseAvailable = KernelInfo.ProcessMadviseAvailable,
                SwapTotal = KernelInfo.SwapTotal,
                SwapFree = KernelInfo.SwapFree,
                TransparentHugePages = KernelInfo.TransparentHugePages,
                HasCapSysNice = KernelInfo.HasCapSysNice,
                HasCapSysAdmin = KernelInfo.HasCapSysAdmin,
                BootId = ProcessIdentity.CurrentBootId,
            });
            return;
        }

        bool swap = KernelInfo.SwapTotal > 0;
        bool capSysNice = KernelInfo.HasCapSysNice;
        foreach (AdviceFact fact in AdviceFacts.All.OrderBy(f => (int)f.Advice))
        {
            if (Advice is not null && Array.IndexOf(Advice, fact.Advice) < 0)
            {
                continue;
            }

            bool known = AdviceFacts.KernelKnows(fact.Advice);
            bool remote = AdviceFacts.AllowedForOtherProcess(fact.Advice, kernel);
            string note = !known ? $"Linux {kernel} does not know this advice (it needs {fact.Since}{(fact.Capability == "CAP_SYS_ADMIN" ? " and CONFIG_MEMORY_FAILURE" : "")})."
                : fact.Advice == MemoryAdvice.PageOut && !swap ? "No swap is configured: PageOut reclaims file-backed pages only; anonymous pages stay."
                : remote && !capSysNice ? "Advising another process needs CAP_SYS_NICE, which this session lacks."
                : fact.Advice == MemoryAdvice.Collapse && KernelInfo.TransparentHugePages == "never" ? "THP is 'never': Collapse still works (it ignores the setting) unless the range has NoHugePage."
                : "";
            WriteObject(new MemoryAdviceSupport
            {
                Advice = fact.Advice,
                Value = (int)fact.Advice,
                KnownByKernel = known,
                AllowedForOtherProcess = remote,
                AllowedForSelf = AdviceFacts.AllowedForSelf(fact.Advice, kernel),
                AddedInKernel = fact.Since.ToString(),
                OtherProcessSinceKernel = fact.RemoteSince?.ToString() ?? "",
                DestroysData = fact.DestroysData,
                RequiredCapability = fact.Capability ?? "",
                Description = fact.Description,
                Note = note,
            });
        }
    }
}
