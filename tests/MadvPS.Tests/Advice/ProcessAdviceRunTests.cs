using System.Diagnostics;
using MadvPS.Core;
using MadvPS.Interop;
using Xunit;

namespace MadvPS.Tests;

/// <summary>
/// Set-ProcessMadvise lists processes (by -Name, -Id or -InputObject) before it opens each one; a
/// process that took over a listed PID in between must be refused, not advised. The test lists a
/// real process and hands Prepare a start time that is not its own, as a reuse would.
/// </summary>
[Collection(nameof(ProcessMadviseCounter))]
[Trait("Needs", "Process")]
public sealed class ProcessAdviceRunTests
{
    [Fact]
    public void AProcessThatIsNotTheOneListedIsRefusedAndNothingIsSent()
    {
        using Process sleeper = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try
        {
            // The start time as the kernel writes it (stat field 22), read here independently.
            string stat = System.IO.File.ReadAllText($"/proc/{sleeper.Id}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            ulong startTime = ulong.Parse(fields[22 - 3]);
            long callsBefore = Libc.ProcessMadviseCalls;

            var refused = Assert.Throws<ProcessAccessException>(() =>
                ProcessAdviceRun.Prepare(sleeper.Id, startTime + 1, MemoryAdvice.Cold, MappingSelection.All, freeze: null, stopping: () => false));

            Assert.Equal(ProcessAccessFailure.IdentityChanged, refused.Failure);
            Assert.Equal(callsBefore, Libc.ProcessMadviseCalls);

            // The control: with the start time it was listed with, the same process is prepared.
            using ProcessAdviceRun run = ProcessAdviceRun.Prepare(sleeper.Id, startTime, MemoryAdvice.Cold, MappingSelection.All, freeze: null, stopping: () => false);
            Assert.Equal(sleeper.Id, run.Handle.ProcessId);
            Assert.NotEmpty(run.Plan.Ranges);
        }
        finally
        {
            sleeper.Kill();
        }
    }
}
