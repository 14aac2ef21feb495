/** The body of every REST error response; codes are SCREAMING_SNAKE, shared with GraphQL's. */
export type ErrorBody = { error: { code: string; message: string } };

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
