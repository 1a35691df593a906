using System;
using MadvPS.Core;
using Xunit;

namespace MadvPS.Tests;

public class DurationTests
{
    [Theory]
    [InlineData("10s", 10_000)]
    [InlineData("500ms", 500)]
    [InlineData("2m", 120_000)]
    [InlineData("1.5m", 90_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("30", 30_000)]
    [InlineData("0.3", 300)]
    [InlineData(" 250 ms ", 250)]
    [InlineData("10S", 10_000)]
    [InlineData("00:00:10", 10_000)]
    [InlineData("0", 0)]
    [InlineData("-5s", -5_000)]
    public void ParsesWhatOperatorsWrite(string text, double milliseconds)
    {
        Assert.True(Duration.TryParse(text, out TimeSpan duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ten seconds")]
    [InlineData("10x")]
    [InlineData("s")]
    [InlineData("1e400")]
    [InlineData(null)]
    public void RejectsTheRest(string? text)
    {
        Assert.False(Duration.TryParse(text, out _));
    }

    [Fact]
    public void RejectsSecondsATimeSpanCannotHold()
    {
        Assert.False(Duration.TryFromSeconds(double.NaN, out _));
        Assert.False(Duration.TryFromSeconds(double.PositiveInfinity, out _));
        Assert.False(Duration.TryFromSeconds(1e20, out _));
    }
}
