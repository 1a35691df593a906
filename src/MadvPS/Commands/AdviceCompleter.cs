using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Completes -Advice with every MADV_* name, each with a one-line description (AdviceFacts) and
/// where it may be used on this kernel: first what another process may receive (Cold, PageOut,
/// WillNeed, Collapse), then the rest by MADV number, what destroys data or needs a capability
/// last. PowerShell 7.4 to 7.6 completes enum and ValidateSet parameters itself before it asks
/// any [ArgumentCompleter] (CompletionCompleters.ProcessParameter), so -Advice is a string with
/// <see cref="AdviceTransformationAttribute"/> for this completer to be called.
/// </summary>
public class AdviceCompleter : IArgumentCompleter
{
    /// <summary>Whether this completer offers the advice; all of them here.</summary>
    private protected virtual bool Offers(AdviceFact fact) => true;

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = CompletionText.Pattern(wordToComplete);
        Version kernel = KernelInfo.Version;
        foreach (AdviceFact fact in AdviceFacts.All.Where(Offers).OrderBy(Rank).ThenBy(f => (int)f.Advice))
        {
            string name = fact.Advice.ToString();
            if (pattern.IsMatch(name))
            {
                yield return new CompletionResult(name, name, CompletionResultType.ParameterValue, ToolTip(fact, kernel));
            }
        }
    }

    private static readonly MemoryAdvice[] s_otherProcessOrder = { MemoryAdvice.Cold, MemoryAdvice.PageOut, MemoryAdvice.WillNeed, MemoryAdvice.Collapse };

    /// <summary>0-3: what another process may receive, in the order operators reach for it; 10: the rest; 20: what destroys data or needs a capability.</summary>
    internal static int Rank(AdviceFact fact)
    {
        int other = Array.IndexOf(s_otherProcessOrder, fact.Advice);
        return other >= 0 ? other
            : fact.RemoteSince is not null ? s_otherProcessOrder.Length
            : fact.DestroysData || fact.Capability is not null ? 20
            : 10;
    }

    /// <summary>"Description (MADV 21; another process: Linux 5.10+)": one line.</summary>
    internal static string ToolTip(AdviceFact fact, Version kernel)
    {
        string where = fact.DestroysData ? "destroys data; this process only"
            : fact.RemoteSince is Version since ? $"another process: Linux {since}+"
            : "this process only";
        if (fact.Capability is not null)
        {
            where += $"; needs {fact.Capability}";
        }

        if (kernel < fact.Since)
        {
            where += $"; not in Linux {kernel}";
        }

        return $"{fact.Description} (MADV {(int)fact.Advice}; {where})";
    }
}

/// <summary>Completes -Advice of cmdlets that advise other processes: only the advice the kernel accepts for them.</summary>
public sealed class OtherProcessAdviceCompleter : AdviceCompleter
{
    private protected override bool Offers(AdviceFact fact) => fact.RemoteSince is not null;
}

/// <summary>Matching and quoting shared by the completers.</summary>
internal static class CompletionText
{
    /// <summary>What was typed, as a case-insensitive prefix pattern (it may hold wildcards itself).</summary>
    public static WildcardPattern Pattern(string? word)
    {
        string text = Unquote(word ?? "");
        return WildcardPattern.Get(text.EndsWith('*') ? text : text + "*", WildcardOptions.IgnoreCase);
    }

    public static string Unquote(string word) =>
        word.Length > 0 && (word[0] == '\'' || word[0] == '"') ? word.Trim(word[0]) : word;

    /// <summary>The text as an argument: single-quoted when it holds a space or a character PowerShell would read otherwise.</summary>
    public static string Quote(string text) =>
        text.Length > 0 && text.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '+')
            ? text
            : "'" + CodeGeneration.EscapeSingleQuotedStringContent(text) + "'";
}
