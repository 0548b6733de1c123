// Comment threads on the incident page, as the comment specs reach them.
import { expect } from './fixtures.js';

/** Starts a thread on a row (an event, an indicator, a step) with `body`. */
export async function commentOn(row, body) {
  await row.getByTestId('comment-button').click();
  const aside = row.getByTestId('comments');
  await aside.getByTestId('comment-input').last().fill(body);
  await aside.getByTestId('comment-send').last().click();
  await expect(row.getByTestId('comment-thread').filter({ hasText: body })).toHaveCount(1);
}

/** The thread whose first comment says `body`, in `scope`. */
export function thread(scope, body) {
  return scope.getByTestId('comment-thread').filter({ hasText: body });
}
