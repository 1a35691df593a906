using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace MadvPS.Commands;

/// <summary>
/// Completes a duration parameter (-Window) with the usual windows instead of file names:
/// 10s, 30s, 1m, 5m, each with what it is good for. Any other duration can still be typed.
/// </summary>
public sealed class DurationCompleter : IArgumentCompleter
{
    private static readonly (string Text, string ToolTip)[] s_durations =
    {
        ("10s", "10 seconds: what a busy service touches right now"),
        ("30s", "30 seconds"),
        ("1m", "1 minute"),
        ("5m", "5 minutes: memory idle that long is a safe candidate for PageOut"),
    };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        WildcardPattern pattern = CompletionText.Pattern(wordToComplete);
        foreach ((string text, string toolTip) in s_durations)
        {
            if (pattern.IsMatch(text))
            {
                yield return new CompletionResult(text, text, CompletionResultType.ParameterValue, toolTip);
            }
        }
    }
}
