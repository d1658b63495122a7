/**
 * useTokenLimit: a document of more than `maxTokens` lexical tokens is refused QUERY_TOO_COMPLEX
 * (limit `tokens`) while it is parsed (graphql-armor's token-counting parser), so a huge document
 * is never built. Such a request never executes; useAudit's after-result hook audits it.
 */
import { MaxTokensParserWLexer } from '@escape.tech/graphql-armor-max-tokens';
import type { DocumentNode, ExecutionResult, ParseOptions, Source } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { limitExceeded } from '../limits/operation-limits.ts';

export interface TokenLimitOptions {
  /** Most lexical tokens in a document. Default 2,000. */
  readonly maxTokens?: number;
  /** Counts refusals (`tokens`). */
  readonly onLimited?: (kind: string) => void;
}

export function useTokenLimit(options: TokenLimitOptions = {}): Plugin {
  const maxTokens = options.maxTokens ?? 2000;
  const parseWithTokenLimit = (source: string | Source, parseOptions?: ParseOptions): DocumentNode => {
    let exceeded = false;
    const parser = new MaxTokensParserWLexer(source, { ...parseOptions, n: maxTokens, onReject: [() => (exceeded = true)], propagateOnRejection: true });
    try {
      return parser.parseDocument();
    } catch (error) {
      if (!exceeded) throw error;
      throw limitExceeded('tokens', `query has more than ${maxTokens} tokens, the limit`, maxTokens);
    }
  };
  return {
    onParse({ setParseFn }) {
      setParseFn(parseWithTokenLimit as never);
    },
    // Counted from the answer: yoga caches the parse result (the refusal too) per document text.
    onExecutionResult({ result }) {
      const errors = (result as ExecutionResult).errors;
      if (errors?.some((e) => e.extensions?.limit === 'tokens')) options.onLimited?.('tokens');
    },
  };
}
