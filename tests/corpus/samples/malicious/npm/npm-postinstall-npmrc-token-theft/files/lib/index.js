'use strict';

const SCOPE_TYPES = new Set([
  'Program',
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
  'ClassDeclaration',
  'ClassExpression',
  'BlockStatement',
  'CatchClause',
  'ForStatement',
  'ForInStatement',
  'ForOfStatement',
  'SwitchStatement',
]);

function isScopeNode(node) {
  return Boolean(node && SCOPE_TYPES.has(node.type));
}

function declaredNames(scope) {
  if (!scope || !Array.isArray(scope.variables)) return [];
  return scope.variables.map((v) => v.name);
}

function findVariable(scope, name) {
  let current = scope;
  while (current) {
    const hit = (current.variables || []).find((v) => v.name === name);
    if (hit) return hit;
    current = current.upper;
  }
  return null;
}

module.exports = { isScopeNode, declaredNames, findVariable };
