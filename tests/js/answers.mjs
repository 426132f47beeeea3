// Answer shapes in the browser: reads {checklist, cases: [[kind, itemId, value], ...]} as JSON on stdin, where kind is
// 'validate' (validateAnswer) or 'coerce' (coerceAnswer), and writes the results as a JSON list on stdout.
// tests/test_js_engine.py compares them with survey/checklist.py's validate_answer and coerce_answer.

import { checklistFromDict, coerceAnswer, validateAnswer } from '../../static/js/engine/checklist.js';

let input = '';
process.stdin.setEncoding('utf-8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { checklist, cases } = JSON.parse(input);
  const model = checklistFromDict(checklist);
  const results = cases.map(([kind, itemId, value]) => {
    const item = model.item(itemId);
    return kind === 'validate' ? validateAnswer(item, value) : coerceAnswer(item, value);
  });
  // JSON has no Infinity or NaN: write them as text, as the Python side does.
  process.stdout.write(JSON.stringify(results, (key, value) => (typeof value === 'number' && !Number.isFinite(value)
    ? String(value) : value)));
});
