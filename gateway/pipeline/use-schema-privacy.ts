/**
 * useSchemaPrivacy: in production the schema is not handed out. Introspection (`__schema`,
 * `__type`) is for platform administrators only, and nobody else gets field or value
 * suggestions ("Did you mean ...?") in error messages, which would reveal the schema piece by
 * piece. Outside production both stay on for everyone (a developer's GraphiQL needs them).
 *
 * graphql-armor's block-field-suggestions is not used: it rewrites only validation errors, misses
 * enum-value suggestions ("Did you mean the enum value ...?") and those of variable coercion, and
 * edits the cached error objects in place, for every later caller alike. This filter rewrites the
 * final answer of each request, by who asked.
 */
import { GraphQLError, NoSchemaIntrospectionCustomRule, validate, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { hasRole, type Viewer } from '../../core/identity.ts';
import { contextState, requestState } from './request-state.ts';
import { GatewayError } from '../../core/errors.ts';

export interface SchemaPrivacyOptions {
  /** NODE_ENV=production. */
  readonly production: boolean;
}

const SUGGESTION = /\s*Did you mean [^?]*\?/g;
const HAS_SUGGESTION = /Did you mean /;

/** The message without its suggestions. */
export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '').trim();
}

function stripped(error: GraphQLError): GraphQLError {
  return new GraphQLError(withoutSuggestions(error.message), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

export function useSchemaPrivacy(options: SchemaPrivacyOptions): Plugin {
  const mayIntrospect = (viewer: Viewer | undefined) => !options.production || hasRole(viewer, 'platform_admin');
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (mayIntrospect(contextState(args.contextValue).viewer)) return;
      if (validate(args.schema, args.document, [NoSchemaIntrospectionCustomRule]).length === 0) return;
      setResultAndStopExecution({
        errors: [new GatewayError('FORBIDDEN', 'introspection is available to platform administrators only', { details: { introspection: false } })],
      });
    },

    onExecutionResult({ result, setResult, request }) {
      if (!options.production || Symbol.asyncIterator in (result as object)) return;
      const executed = result as ExecutionResult;
      if (!executed.errors?.some((e) => HAS_SUGGESTION.test(e.message))) return;
      if (mayIntrospect(requestState(request).viewer)) return;
      setResult({ ...executed, errors: executed.errors.map((e) => stripped(e)) });
    },
  };
}
