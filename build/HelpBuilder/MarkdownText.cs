using System.Collections.Generic;
using System.Linq;
using System.Text;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace MadvPS.HelpBuilder;

/// <summary>Plain text of Markdig blocks and inlines, as help text shows them.</summary>
internal static class MarkdownText
{
    /// <summary>The text of a heading, a paragraph or any container of inlines.</summary>
    public static string Inline(ContainerInline? inlines)
    {
        var text = new StringBuilder();
        Append(text, inlines);
        return text.ToString().Trim();
    }

    private static void Append(StringBuilder text, Inline? inline)
    {
        switch (inline)
        {
            case null:
                return;
            case LiteralInline literal:
                text.Append(literal.Content.ToString());
                break;
            case CodeInline code:
                text.Append(code.Content);
                break;
            case LineBreakInline lineBreak:
                text.Append(lineBreak.IsHard ? "\n" : " ");
                break;
            case AutolinkInline autolink:
                text.Append(autolink.Url);
                break;
            case HtmlEntityInline entity:
                text.Append(entity.Transcoded.ToString());
                break;
            case HtmlInline html:
                text.Append(html.Tag);
                break;
            case LinkInline link:
            {
                int start = text.Length;
                AppendChildren(text, link);
                string label = text.ToString(start, text.Length - start);
                string url = link.Url ?? "";
                if (IsExternal(url) && label != url)
                {
                    text.Append(" (").Append(url).Append(')');
                }

                break;
            }
            case ContainerInline container:
                AppendChildren(text, container);
                break;
        }
    }

    private static void AppendChildren(StringBuilder text, ContainerInline container)
    {
        foreach (Inline child in container)
        {
            Append(text, child);
        }
    }

    private static string Label(LinkInline link)
    {
        var text = new StringBuilder();
        AppendChildren(text, link);
        return text.ToString().Trim();
    }

    public static bool IsExternal(string url) => url.StartsWith("http://") || url.StartsWith("https://");

    /// <summary>The links of a block, in order: (text, url).</summary>
    public static IEnumerable<(string Text, string Url)> Links(Block block) => block switch
    {
        LeafBlock { Inline: ContainerInline inlines } => inlines.Descendants<LinkInline>().Where(l => !l.IsImage).Select(l => (Label(l), l.Url ?? "")),
        ContainerBlock container => container.SelectMany(Links),
        _ => Enumerable.Empty<(string, string)>(),
    };

    /// <summary>Source lines of a code block, without the fence.</summary>
    public static string Code(LeafBlock code) =>
        string.Join("\n", code.Lines.Lines.Take(code.Lines.Count).Select(l => l.Slice.ToString())).TrimEnd();

    /// <summary>
    /// The paragraphs of a block for help text: a paragraph, a list (one line per item), a code
    /// block (indented four spaces), a table (as written), a quote (its paragraphs).
    /// </summary>
    public static IEnumerable<string> Paragraphs(Block block, string source)
    {
        switch (block)
        {
            case ParagraphBlock paragraph:
                yield return Inline(paragraph.Inline);
                break;
            case HeadingBlock heading:
                yield return Inline(heading.Inline);
                break;
            case FencedCodeBlock or CodeBlock:
                yield return string.Join("\n", Code((LeafBlock)block).Split('\n').Select(l => l.Length == 0 ? l : "    " + l));
                break;
            case ListBlock list:
            {
                var items = new List<string>();
                int number = 1;
                foreach (Block item in list)
                {
                    string bullet = list.IsOrdered ? $"{number++}. " : "- ";
                    string body = string.Join("\n", ((ContainerBlock)item).SelectMany(b => Paragraphs(b, source)));
                    items.Add(bullet + body.Replace("\n", "\n" + new string(' ', bullet.Length)));
                }

                yield return string.Join("\n", items);
                break;
            }
            case QuoteBlock quote:
                foreach (Block child in quote)
                {
                    foreach (string p in Paragraphs(child, source))
                    {
                        yield return p;
                    }
                }

                break;
            case ThematicBreakBlock or LinkReferenceDefinitionGroup or BlankLineBlock:
                break;
            default:
                // Tables and HTML: as written in the page.
                yield return source.Substring(block.Span.Start, block.Span.Length).TrimEnd();
                break;
        }
    }
}
