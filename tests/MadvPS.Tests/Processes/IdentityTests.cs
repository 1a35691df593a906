using System;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

/// <summary>An object read on another host or boot never reaches a process here, and the error says where it came from.</summary>
[Trait("Needs", "Process")]
public class IdentityTests
{
    [Fact]
    public void AnotherBootIsRefusedNamingBothBootsAndTheHost()
    {
        const string other = "5b0c2e9a-0000-4000-8000-000000000001";
        var e = Assert.Throws<ProcessAccessException>(() => ProcessHandle.Open(Environment.ProcessId, null, other, "web1"));
        Assert.Equal(ProcessAccessFailure.IdentityChanged, e.Failure);
        Assert.Contains($"read on web1 in boot {other}", e.Message);
        Assert.Contains(ProcessIdentity.CurrentBootId, e.Message);
        Assert.Contains("Nothing was advised", e.Message);
    }

    [Fact]
    public void AnEmptyBootIdIsRefused()
    {
        var e = Assert.Throws<ProcessAccessException>(() => ProcessHandle.Open(Environment.ProcessId, null, "", null));
        Assert.Equal(ProcessAccessFailure.IdentityChanged, e.Failure);
        Assert.Contains("empty BootId", e.Message);
    }

    [Fact]
    public void ThisBootInAnyCaseIsAccepted()
    {
        using ProcessHandle handle = ProcessHandle.Open(Environment.ProcessId, null, ProcessIdentity.CurrentBootId.ToUpperInvariant(), "web1");
        Assert.Equal(Environment.ProcessId, handle.ProcessId);
    }
}
